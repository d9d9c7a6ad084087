"""The native JDBC roles (`mariadb`, `dbgate`) on a bare systemd test host: converge twice with no
changes the second time, then the same tests/infra/test_jdbc.py checks as on Docker.

The stack playbook (playbooks/jdbc.yml) also needs the SCIM engineer's `scim` role; this test
converges only the two roles this issue owns, with the shared bootstrap playbook first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.context import LabContext
from lab.host.ansible import converge_twice
from lab.host.playbooks import PLAYBOOKS
from lab.targets.host import plan, render
from lab.verify import run_checks
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
GROUPS = ("lab", "ldap", "db", "scim", "viewer")


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabContext, TestHost, Path]]:
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("jdbc-native")
    key = make_key(root)
    write_lab(root / "lab", "", **free_port_overrides(port_keys()))
    host = start_host(key, lab_ports(root / "lab" / ".env"))
    (root / "lab" / "inventory.ini").write_text(
        "".join(f"[{g}]\n{host.inventory_line('testhost')}\n\n" for g in GROUPS)
    )
    playbook = root / "jdbc-db.yml"
    playbook.write_text(
        f"---\n- name: Bootstrap the database host\n  ansible.builtin.import_playbook: {PLAYBOOKS}/bootstrap.yml\n"
        "  vars:\n    lab_bootstrap_hosts: db\n\n"
        "- name: Install the database and DBGate\n  hosts: db\n  become: true\n"
        "  roles:\n    - role: mariadb\n    - role: dbgate\n"
    )
    try:
        yield LabContext(root=root / "lab"), host, playbook
    finally:
        host.remove()


def test_roles_converge_twice_without_changes(native):
    ctx, _host, playbook = native
    files = render(ctx, plan(ctx, ["jdbc"], need_roles=False))
    result = converge_twice(files, playbook)
    assert result.first.ok, result.report()
    assert not result.changed_on_second, result.report()
    assert result.second.changed == 0


def test_native_database_passes_the_jdbc_checks(native):
    ctx, _host, _playbook = native
    report = run_checks(ctx, ["db", "dbgate"], [], target="host")
    failed = [f"{r.name}: {r.message}" for r in report.results if r.outcome not in ("passed", "skipped")]
    assert report.ok, "\n".join(failed)
    assert len(report.results) >= 20
