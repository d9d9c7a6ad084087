"""`lab down|up|destroy` on a native lab reach every unit of a service: the viewer's optional sync
unit is stopped with the viewer, started again when installed, and stopped before `destroy`
removes its files (it kept running, from a deleted virtualenv, before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.host.inventory import SshTarget
from lab.runner import Result
from lab.state import NativeHosts
from lab.targets.host import HostTarget

HOST = SshTarget(name="h1", address="192.0.2.10")


class Runner:
    """Records the commands; `systemctl` of a unit not installed exits 5, as systemd does."""

    def __init__(self, installed: set[str]) -> None:
        self.installed = installed
        self.calls: list[list[str]] = []

    def _answer(self, argv: list[str], **_kw: object) -> Result:
        self.calls.append(list(argv))
        if argv[0] == "systemctl" and argv[1] in ("start", "stop"):
            return Result(tuple(argv), 0 if set(argv[2:]) <= self.installed else 5, "", "")
        if argv[:2] == ["systemctl", "show"]:
            return Result(tuple(argv), 0, f"LoadState={'loaded' if argv[-1] in self.installed else 'not-found'}\n", "")
        return Result(tuple(argv), 0, "", "")

    run = query = _answer


def target(tmp_path: Path, installed: set[str]) -> tuple[HostTarget, Runner]:
    t = HostTarget(NativeHosts("inventory.ini"), {"viewer": HOST}, tmp_path / "kh", False)
    runner = Runner(installed)
    t._runners[HOST] = runner  # type: ignore[assignment]
    return t, runner


@pytest.mark.parametrize("installed", [{"okta-lab-viewer", "okta-lab-viewer-sync"}, {"okta-lab-viewer"}])
def test_down_and_up_take_the_sync_unit_along_when_installed(tmp_path: Path, installed: set[str]) -> None:
    t, runner = target(tmp_path, installed)
    t.down()
    t.up([t._catalog["viewer"]])
    verbs = [c for c in runner.calls if c[1] in ("start", "stop")]
    assert verbs == [
        ["systemctl", "stop", "okta-lab-viewer"],
        ["systemctl", "stop", "okta-lab-viewer-sync"],
        ["systemctl", "start", "okta-lab-viewer"],
        ["systemctl", "start", "okta-lab-viewer-sync"],
    ]  # without the sync unit, systemd's "not loaded" (5) is not an error


def test_destroy_stops_the_sync_unit_before_removing_its_files(tmp_path: Path) -> None:
    t, runner = target(tmp_path, {"okta-lab-viewer", "okta-lab-viewer-sync"})
    removed = t.destroy()
    (script,) = [c[-1] for c in runner.calls if c[:2] == ["sh", "-c"]]
    stop, _, rest = script.partition(";")
    assert stop.split() == ["systemctl", "disable", "--now", "okta-lab-viewer-sync", "okta-lab-viewer", "2>/dev/null"]
    assert "/var/lib/okta-lab-viewer-sync" in rest and "h1:/var/lib/okta-lab-viewer-sync" in removed
