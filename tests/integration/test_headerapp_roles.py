"""The native header lab roles (`header_app`, `oag_sim`) on a bare systemd test host: converge twice
with no changes the second time, then the same tests/infra/test_headerapp.py checks as on Docker,
and `lab headerapp test|reload` there: a broken snippet refused while nginx keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.context import LabContext
from lab.host.ansible import converge_twice
from lab.host.playbooks import PLAYBOOKS
from lab.targets.host import plan, render
from lab.verify import run_checks
from tests.conftest import lab_cli
from tests.hosts.testhost import (
    TestHost,
    build_image,
    free_port_overrides,
    lab_ports,
    make_key,
    port_keys,
    require_docker,
    start_host,
    write_lab,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]
GROUPS = ("lab", "headerapp")


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabContext, TestHost]]:
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("headerapp-native")
    key = make_key(root)
    write_lab(root / "lab", "", LAB_STACKS="headerapp", **free_port_overrides(port_keys()))
    host = start_host(key, lab_ports(root / "lab" / ".env"))
    (root / "lab" / "inventory.ini").write_text(
        "".join(f"[{g}]\n{host.inventory_line('testhost')}\n\n" for g in GROUPS)
    )
    try:
        yield LabContext(root=root / "lab"), host
    finally:
        host.remove()


def test_roles_converge_twice_without_changes(native):  # type: ignore[no-untyped-def]
    ctx, _host = native
    files = render(ctx, plan(ctx, ["headerapp"]))
    result = converge_twice(files, PLAYBOOKS / "headerapp.yml")
    assert result.first.ok, result.report()
    assert not result.changed_on_second, result.report()
    assert result.second.changed == 0


def test_native_lab_passes_the_headerapp_checks(native):  # type: ignore[no-untyped-def]
    ctx, _host = native
    report = run_checks(ctx, ["headerapp"], [], target="host")
    failed = [f"{r.name}: {r.message}" for r in report.results if r.outcome not in ("passed", "skipped")]
    assert report.ok, "\n".join(failed)
    assert len(report.results) >= 10


def test_lab_headerapp_test_and_reload_work_natively(native):  # type: ignore[no-untyped-def]
    ctx, host = native
    out = lab_cli(ctx.root, "headerapp", "test", "--user", "leia.organa").stdout
    assert out.strip().splitlines()[-1].startswith("ok: Authorization"), out
    custom = "/etc/nginx/okta-lab-custom/custom.conf"
    host.exec("cp", custom, "/tmp/custom.good")
    host.exec("sh", "-c", f"printf 'allow 127.0.0.1;\\nbogus_directive on;\\n' > {custom}")
    proc = lab_cli(ctx.root, "headerapp", "reload", check=False)
    assert proc.returncode == 2 and "custom.conf line 2: unknown directive" in proc.stderr, proc.stderr
    assert host.exec("cmp", "-s", "/etc/nginx/okta-lab-custom/active.conf", custom).returncode == 1
    assert host.exec("systemctl", "is-active", "nginx").stdout.strip() == "active"
    assert lab_cli(ctx.root, "headerapp", "test").returncode == 0  # the last good code still serves
    host.exec("cp", "/tmp/custom.good", custom)
    assert lab_cli(ctx.root, "headerapp", "reload").returncode == 0
