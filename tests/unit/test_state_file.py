"""`.lab/lab.json`: a corrupt or unreadable state file is one clear error (exit 2); paramiko only
on remote paths; `--dry-run` before or after the subcommand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.cli.common import hoist_global_flags
from lab.context import LabContext
from lab.envfile import example_path, render_env
from lab.state import LabState, StateError


def _lab(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text(render_env(example_path().read_text(), {}))
    (tmp_path / ".lab").mkdir()
    return tmp_path


@pytest.mark.parametrize("text", ["{not json", '{"target": {"kind": "nowhere"}}', '["a list"]', '{"services": "db"}'])
def test_a_corrupt_state_file_is_one_clear_error(tmp_path: Path, text: str) -> None:
    root = _lab(tmp_path)
    (root / ".lab" / "lab.json").write_text(text)
    with pytest.raises(StateError) as err:
        LabState.load(LabContext(root=root))
    assert "is corrupt" in str(err.value) and "rm " in err.value.problems[0].hint
    proc = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(root), "status"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "lab.json" in errors[0] and "Traceback" not in proc.stderr


def test_an_unreadable_state_file_is_not_taken_for_not_started(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    (root / ".lab" / "lab.json").mkdir()  # a directory: reading it fails with EISDIR
    with pytest.raises(StateError, match="cannot read the lab state"):
        LabState.load(LabContext(root=root))


def test_no_state_file_is_not_started(tmp_path: Path) -> None:
    assert LabState.load(LabContext(root=_lab(tmp_path))) is None


def test_destroy_of_a_local_lab_needs_no_paramiko(tmp_path: Path) -> None:
    root = _lab(tmp_path)
    (root / "data" / "openldap").mkdir(parents=True)
    code = (
        "import sys; sys.modules['paramiko'] = None; "
        f"sys.argv = ['lab', '-C', {str(root)!r}, 'destroy', '--yes']; "
        "from lab.cli import main; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not (root / "data").exists() and not (root / ".lab").exists()


def test_dry_run_is_accepted_after_the_subcommand() -> None:
    assert hoist_global_flags(["up", "ldap", "--dry-run"]) == ["--dry-run", "up", "ldap"]
    assert hoist_global_flags(["--dry-run", "up"]) == ["--dry-run", "up"]
    assert hoist_global_flags(["ldap", "search", "--", "--dry-run"]) == ["ldap", "search", "--", "--dry-run"]


def test_a_remote_lab_records_the_become_password_file_path_only(tmp_path: Path) -> None:
    from lab.host.inventory import SshTarget
    from lab.state import DockerRemote, LabState

    state = LabState(target=DockerRemote(SshTarget("h", "h", user="ubuntu"), "/opt/okta-lab/p", become_file="/k/pw"))
    again = LabState.from_dict(state.to_dict())
    assert again.target == state.target and again.to_dict()["target"]["become_file"] == "/k/pw"
    old = state.to_dict()
    del old["target"]["become_file"]  # written before password sudo existed
    assert LabState.from_dict(old).target.become_file == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("command", [["destroy", "--yes"], ["destroy"], ["status"], ["down"]])
def test_native_host_files_without_a_state_never_fall_through_to_docker(tmp_path: Path, command: list[str]) -> None:
    """`.lab/host/` (from `lab host render` or an unfinished `lab host up`) but no lab.json: one
    line saying what was found and what to do, exit 2; no `compose down` here, nothing removed."""
    root = _lab(tmp_path)
    (root / ".lab" / "host").mkdir()
    (root / ".lab" / "compose.yml").write_text("services: {}\n")  # host rendering writes one too
    (root / "data" / "openldap").mkdir(parents=True)
    code = (  # no Docker: any engine or compose call would fail loudly
        "import sys; sys.modules['docker'] = None; "
        f"sys.argv = ['lab', '-C', {str(root)!r}, *{command!r}]; "
        "from lab.cli import main; main()"
    )
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "found .lab/host/" in errors[0] and "no .lab/lab.json" in errors[0], proc.stderr
    assert "run `lab host up` to finish it" in proc.stderr and "rm -rf .lab" in proc.stderr
    assert "Traceback" not in proc.stderr and "Remove every container" not in proc.stdout
    assert (root / ".lab" / "compose.yml").exists() and (root / "data" / "openldap").is_dir()
