"""`--dry-run` on every target: nothing written under the project (tree compared before/after),
nothing started (no container with the project's label, no folder on the remote host), and the
commands shown are those of the compose variant actually installed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import init_lab
from tests.hosts.sshd import LocalSshd, local_sshd
from tests.hosts.testhost import free_port, port_keys, require_docker, write_lab

pytestmark = pytest.mark.docker


def lab(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(directory), *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def tree(root: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime) for p in sorted(root.rglob("*"))}


def containers(project: str) -> str:
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def compose_variant() -> str:
    v2 = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False)
    return "docker compose" if v2.returncode == 0 and v2.stdout.strip() else "docker-compose"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSshd]:
    require_docker()
    with local_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.mark.parametrize("where", ["before", "after"])
def test_local_up_dry_run_writes_and_starts_nothing(tmp_path: Path, docker_engine: None, where: str) -> None:
    root = init_lab(tmp_path / "lab", ["ldap"])
    project = next(
        line.split("=", 1)[1] for line in (root / ".env").read_text().splitlines() if line.startswith("LAB_PROJECT=")
    )
    before = tree(root)
    args = ["--dry-run", "up", "openldap"] if where == "before" else ["up", "openldap", "--dry-run"]
    proc = lab(root, *args)
    assert proc.returncode == 0, proc.stderr
    assert tree(root) == before and not (root / ".lab").exists() and not (root / "data").exists()
    assert containers(project) == ""
    assert f"would run: {compose_variant()} -p {project}" in proc.stderr
    assert "up -d --no-build openldap" in proc.stderr and "dry run" in proc.stdout


def test_local_down_and_destroy_dry_run_change_nothing(tmp_path: Path, docker_engine: None) -> None:
    root = init_lab(tmp_path / "lab", ["ldap"])
    (root / "data" / "openldap").mkdir(parents=True)
    before = tree(root)
    proc = lab(root, "--dry-run", "destroy", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert tree(root) == before and "would remove" in proc.stdout


def test_remote_up_dry_run_ships_nothing(sshd: LocalSshd, tmp_path: Path) -> None:
    project = f"dry{free_port()}"
    ports = {k: str(free_port()) for k in port_keys()}
    d = write_lab(
        tmp_path / "remote",
        f"[docker]\n{sshd.inventory_line('ci')}\n",
        LAB_BIND="127.0.0.1",
        LAB_PROJECT=project,
        LAB_STACKS="ldap",
        **ports,
    )
    before = tree(d)
    proc = lab(d, "up", "--host", "ci", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert tree(d) == before, "no known_hosts, no .lab/, no data/"
    assert not Path(f"/opt/okta-lab/{project}").exists()
    assert containers(project) == ""
    assert f"would run: {compose_variant()} -p {project}" in proc.stderr and "[on ci" in proc.stderr
    assert "would ship " in proc.stderr and f"to ci:/opt/okta-lab/{project}" in proc.stderr


def test_host_up_dry_run_converges_nothing(sshd: LocalSshd, tmp_path: Path) -> None:
    d = write_lab(tmp_path / "native", f"[ldap]\n{sshd.inventory_line('ci')}\n", LAB_STACKS="ldap")
    before = tree(d)
    proc = lab(d, "--dry-run", "host", "up", "ldap")
    if "not supported" in proc.stderr:  # the local sshd is this machine: Debian 12 here and in CI
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the native dry run, but this machine's OS is refused:\n{proc.stderr}")
        pytest.skip("this machine's OS is not one the roles support (set CI=1 to make this a failure)")
    assert proc.returncode == 0, proc.stderr
    assert tree(d) == before
    assert "would run: env ANSIBLE_CONFIG=" in proc.stderr and "ansible-playbook" in proc.stderr
