"""`lab host` end to end against systemd test hosts: converge, re-run, check mode, bad input.

Every bad input must give a clear line, a non-zero exit, and leave every host untouched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.errors import TargetError
from tests.hosts.testhost import (
    TestHost,
    build_image,
    free_port,
    make_key,
    require_docker,
    start_host,
    write_lab,
)

pytestmark = pytest.mark.docker


@dataclass
class Hosts:
    root: Path
    good: TestHost  # converged by the happy-path tests
    fresh: TestHost  # must never be changed
    old_os: TestHost  # claims to be Debian 11


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("hostcli")
    key = make_key(root)
    started: list[TestHost] = []
    try:
        for _ in range(3):
            started.append(start_host(key))
        old = started[2]
        fake = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nVERSION_ID="11"\nID=debian\n'
        r = old.exec("sh", "-c", f"rm -f /etc/os-release && printf '%s' '{fake}' > /etc/os-release")
        assert r.returncode == 0, r.stderr
        yield Hosts(root, *started)
    finally:
        for h in started:
            h.remove()


def lab(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def project(hosts: Hosts, name: str, inventory: str) -> Path:
    return write_lab(hosts.root / name, inventory)


def untouched(host: TestHost) -> bool:
    return host.exec("test", "-e", "/opt/okta-lab").returncode != 0


def test_host_up_converges_then_reports_no_change(hosts: Hosts) -> None:
    d = project(hosts, "good", f"[ldap]\n{hosts.good.inventory_line('good')}\n")
    first = lab(d, "host", "up", "bootstrap")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed" in first.stderr and "Ensure the lab directory exists" in first.stderr  # live progress
    assert "good" in first.stdout  # the per-host summary table
    second = lab(d, "host", "up", "bootstrap", "--json")
    assert second.returncode == 0, second.stderr
    [summary] = json.loads(second.stdout)
    assert summary["ok"] and summary["changes"] == []
    assert summary["hosts"][0]["changed"] == 0 and summary["hosts"][0]["failed"] == 0


def test_check_mode_reports_and_changes_nothing(hosts: Hosts) -> None:
    d = project(hosts, "check", f"[ldap]\n{hosts.fresh.inventory_line('fresh')}\n")
    r = lab(d, "host", "up", "bootstrap", "--check", "--json")
    # apt installs cannot be simulated before python3-apt exists; either way nothing may change
    assert untouched(hosts.fresh)
    if r.returncode == 0:
        [summary] = json.loads(r.stdout)
        assert summary["check"] and summary["changes"]


def test_missing_inventory_is_a_config_error(hosts: Hosts) -> None:
    d = project(hosts, "noinv", "")
    (d / "inventory.ini").unlink()
    r = lab(d, "host", "up", "bootstrap")
    assert r.returncode == 2
    assert "inventory" in r.stderr and "does not exist" in r.stderr and "inventory.example.ini" in r.stderr


def test_unparsable_inventory_names_the_line(hosts: Hosts) -> None:
    d = project(hosts, "badinv", f"[ldap\n{hosts.fresh.inventory_line('fresh')}\n")
    r = lab(d, "host", "up", "bootstrap")
    assert r.returncode == 2
    assert "inventory.ini:1: bad section header" in r.stderr
    assert untouched(hosts.fresh)


def test_empty_group_is_named(hosts: Hosts) -> None:
    d = project(hosts, "empty", f"[ldap]\n\n[db]\n{hosts.fresh.inventory_line('fresh')}\n")
    r = lab(d, "host", "up", "ldap")
    assert r.returncode == 2
    assert "group [ldap] used by stack ldap has no hosts" in r.stderr
    assert untouched(hosts.fresh)


def test_unreachable_host_is_named_with_the_ssh_error(hosts: Hosts) -> None:
    closed = free_port()
    inventory = (
        f"[ldap]\n{hosts.fresh.inventory_line('fresh')}\n"
        f"gone ansible_host=127.0.0.1 ansible_port={closed} "
        f"ansible_ssh_private_key_file={hosts.fresh.key_file}\n"
    )
    r = lab(project(hosts, "unreach", inventory), "host", "up", "bootstrap")
    assert r.returncode == 1
    assert f"host gone (root@127.0.0.1:{closed}) is unreachable" in r.stderr
    assert "connect" in r.stderr.lower()  # the SSH/socket error itself
    assert untouched(hosts.fresh)  # nothing changed on the reachable host either


def test_unsupported_os_says_which_are_supported(hosts: Hosts) -> None:
    inventory = f"[ldap]\n{hosts.fresh.inventory_line('fresh')}\n{hosts.old_os.inventory_line('old')}\n"
    r = lab(project(hosts, "oldos", inventory), "host", "up", "bootstrap")
    assert r.returncode == 1
    assert "host old" in r.stderr and "Debian GNU/Linux 11 (bullseye)" in r.stderr
    assert "supported: Debian 12 (bookworm), Ubuntu 24.04 (noble)" in r.stderr
    assert untouched(hosts.fresh) and untouched(hosts.old_os)


def test_wrong_key_is_an_authentication_error(hosts: Hosts) -> None:
    other = make_key(hosts.root / "otherkey") if (hosts.root / "otherkey").mkdir() is None else None
    assert other is not None
    line = hosts.fresh.inventory_line("fresh").replace(str(hosts.fresh.key_file), str(other))
    r = lab(project(hosts, "badkey", f"[ldap]\n{line}\n"), "host", "up", "bootstrap")
    assert r.returncode == 1
    assert "SSH authentication failed" in r.stderr
    assert untouched(hosts.fresh)


def test_up_on_a_host_without_ssh_access_changes_nothing(hosts: Hosts) -> None:
    d = project(hosts, "nossh", "")
    closed = free_port()
    r = lab(d, "up", "ldap", "--host", f"root@127.0.0.1:{closed}")
    assert r.returncode == 1
    assert f"127.0.0.1:{closed}" in r.stderr and "unreachable" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2  # one clear line, no traceback
    assert not (d / "data").exists()


def test_infra_fixture_reaches_the_host_over_ssh(hosts: Hosts) -> None:
    """The `lab` fixture of tests/infra on the host target: testinfra over paramiko, the host's address."""
    from lab.config import LabConfig
    from lab.context import LabContext
    from lab.host.render import render_host
    from lab.targets.host import plan, preflight
    from tests.infra.conftest import LabUnderTest

    d = project(hosts, "verify", f"[ldap]\n{hosts.good.inventory_line('good')}\n")
    ctx = LabContext(root=d)
    host_plan = plan(ctx, ["ldap"], need_roles=False)
    preflight(ctx, host_plan)
    render_host(host_plan.config, host_plan.inventory, ctx.lab_dir / "host", ctx.lab_dir)
    under_test = LabUnderTest(root=d, cfg=LabConfig.from_env(d / ".env"), target="host")
    assert under_test.addr == "127.0.0.1"
    for service in ("openldap", "ldap-ui", "ldap_ui"):
        assert under_test.host(service).check_output("hostname") == hosts.good.name.removeprefix("lab-")
    assert under_test.host("openldap").system_info.codename == "bookworm"
    # The fixture's SSH session is `lab`'s own: a host key that no longer matches the pinned one is refused.
    known = ctx.known_hosts
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "other")], check=True)
    other_key = (d / "other.pub").read_text().split()[1]
    pinned = [line.split() for line in known.read_text().splitlines() if line.strip()]
    assert pinned and all(fields[1] == "ssh-ed25519" for fields in pinned), pinned
    known.write_text("".join(f"{fields[0]} {fields[1]} {other_key}\n" for fields in pinned))
    with pytest.raises(TargetError, match="host key changed"):
        LabUnderTest(root=d, cfg=LabConfig.from_env(d / ".env"), target="host").host("openldap")


def test_test_host_sudo_users_log_in_with_the_key(hosts: Hosts) -> None:
    """The harness's non-root users: passwordless sudo, and sudo that asks for the password."""
    nopass = hosts.old_os.add_sudo_user("ubuntu")
    withpass = hosts.old_os.add_sudo_user("alice", "pw-for-sudo")
    assert hosts.old_os.add_sudo_user("ubuntu") == nopass  # idempotent
    base = ["ssh", "-i", str(hosts.old_os.key_file), "-p", str(hosts.old_os.ssh_port), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]  # fmt: skip

    def ssh(user: str, cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, f"{user}@127.0.0.1", cmd], capture_output=True, text=True, check=False)

    assert ssh("ubuntu", "id -un; sudo -n id -un").stdout.split() == ["ubuntu", "root"]
    r = ssh("alice", "sudo -n true")
    assert r.returncode != 0 and "password is required" in r.stderr
    assert ssh("alice", "echo pw-for-sudo | sudo -S -p '' id -un").stdout.strip() == "root"
    assert withpass.sudo("id", "-un").stdout.strip() == "root"
