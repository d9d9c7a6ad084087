"""The idempotence gate: every role converges a bare test host, and a second run changes nothing.

Adding a role's stack is one `pytest.param` entry in CASES; a stack whose roles are not written yet
is skipped with the missing role named (never a Docker skip: without an engine and with CI set,
these tests fail).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.config import LabConfig
from lab.context import LabContext
from lab.host.ansible import converge_twice
from lab.host.inventory import load_inventory
from lab.host.playbooks import PLAYBOOKS, ROLES, load_stack, missing_roles
from lab.host.render import HostFiles, render_host
from lab.targets.host import host_verify, plan, render
from tests.hosts.testhost import (
    TestHost,
    build_image,
    lab_ports,
    make_key,
    require_docker,
    start_host,
    write_lab,
)

GROUPS = ("lab", "ldap", "db", "scim", "viewer")


def _needs(*roles: str) -> pytest.MarkDecorator:
    missing = [r for r in roles if not (ROLES / r / "tasks" / "main.yml").is_file()]
    return pytest.mark.skipif(bool(missing), reason=f"role(s) not written yet: {', '.join(missing)}")


# (playbook stem, roles it needs). One entry per stack; `bootstrap` proves the harness itself.
CASES = [
    pytest.param("bootstrap", id="common"),
    pytest.param("ldap", id="ldap", marks=_needs(*load_stack("ldap").roles)),
    pytest.param("jdbc", id="jdbc", marks=_needs(*load_stack("jdbc").roles)),
    pytest.param("viewer", id="viewer", marks=_needs(*load_stack("viewer").roles)),
]


@pytest.fixture(scope="module")
def native_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabContext, TestHost]]:
    """One bare test host for the module, every inventory group pointing at it."""
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("native")
    key = make_key(root)
    write_lab(root / "lab", "")
    host = start_host(key, lab_ports(root / "lab" / ".env"))
    inventory = "".join(f"[{g}]\n{host.inventory_line('testhost')}\n\n" for g in GROUPS)
    (root / "lab" / "inventory.ini").write_text(inventory)
    try:
        yield LabContext(root=root / "lab"), host
    finally:
        host.remove()


def _files(ctx: LabContext, stack: str) -> HostFiles:
    if stack == "bootstrap":  # the bootstrap playbook alone: no content to render
        cfg = LabConfig.from_env(ctx.env_path)
        return render_host(cfg, load_inventory(ctx.root / "inventory.ini"), ctx.lab_dir / "host", ctx.lab_dir)
    return render(ctx, plan(ctx, [stack]))


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("stack", CASES)
def test_converges_twice_without_changes(native_lab: tuple[LabContext, TestHost], stack: str) -> None:
    ctx, _host = native_lab
    playbook = PLAYBOOKS / f"{stack}.yml"
    if stack != "bootstrap":
        assert not missing_roles(load_stack(stack))
    result = converge_twice(_files(ctx, stack), playbook)
    assert result.first.ok
    assert result.first.hosts and result.first.hosts[0].failed == 0
    assert not result.changed_on_second, result.report()
    assert result.second.changed == 0
    if stack != "bootstrap":  # the same tests/infra checks as the Docker target
        report = host_verify(ctx, [stack])
        failed = [
            f"{r.component}::{r.name}: {r.message}" for r in report.results if r.outcome not in ("passed", "skipped")
        ]
        assert report.ok, "\n".join(failed)


@pytest.mark.docker
def test_bootstrap_left_the_host_ready(native_lab: tuple[LabContext, TestHost]) -> None:
    """The common role's observable result: tools present, marker file with the project name."""
    ctx, host = native_lab
    converge_twice(_files(ctx, "bootstrap"), PLAYBOOKS / "bootstrap.yml")
    r = host.exec(
        "sh",
        "-c",
        "cat /opt/okta-lab/lab-host.conf; for c in ss ps debconf-get-selections; do command -v $c; done",
    )
    assert r.returncode == 0, r.stderr
    assert "project=oktalab" in r.stdout
    for tool in ("/ss", "/ps", "/debconf-get-selections"):
        assert tool in r.stdout
