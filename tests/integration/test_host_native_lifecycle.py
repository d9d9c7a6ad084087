"""A native lab as a sudo user has it: pre-checks that name the sudo problem, a converge with the
become password from a file, then `lab status`, `lab down`/`lab up`, `lab creds`, `--check` and
`lab destroy` on it — the same lifecycle as a Docker lab.

One systemd test host for the module; the lab binds the loopback (the `lab init` default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hosts.testhost import (
    SudoUser,
    TestHost,
    build_image,
    free_port_overrides,
    make_key,
    port_keys,
    require_docker,
    start_host,
    write_lab,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]
PASSWORD = "sudo-pw-for-alice"


@dataclass
class Native:
    root: Path
    lab: Path
    host: TestHost
    alice: SudoUser  # sudo with a password
    password_file: Path
    first: subprocess.CompletedProcess[str]
    fresh: TestHost  # never converged; its `ubuntu` user has passwordless sudo


def lab(directory: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
        input=input,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Native]:
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("native-lifecycle")
    key = make_key(root)
    host = start_host(key)
    fresh = start_host(key)
    try:
        fresh.add_sudo_user("ubuntu")
        alice = host.add_sudo_user("alice", PASSWORD)
        pw = root / "become-password"
        pw.write_text(PASSWORD + "\n")
        pw.chmod(0o600)
        inventory = f"[ldap]\n{alice.inventory_line('h1')}\n"
        d = write_lab(root / "lab", inventory, LAB_BIND="127.0.0.1", **free_port_overrides(port_keys()))
        first = lab(d, "host", "up", "ldap", "--become-password-file", str(pw))
        yield Native(root, d, host, alice, pw, first, fresh)
    finally:
        host.remove()
        fresh.remove()


def _project(native: Native, name: str, line: str) -> Path:
    return write_lab(native.root / name, f"[ldap]\n{line}\n")


def test_sudo_that_needs_a_password_is_named_before_anything_runs(native: Native) -> None:
    d = _project(native, "nopw", native.alice.inventory_line("h1"))
    r = lab(d, "host", "up", "bootstrap", LAB_BECOME_PASSWORD_FILE="")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "host h1 (alice@127.0.0.1" in r.stderr and "sudo needs a password for alice" in r.stderr, r.stderr
    assert "--become-password-file" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3  # the step notes and one error line, no traceback
    wrong = native.root / "wrong-pw"
    wrong.write_text("not-it\n")
    wrong.chmod(0o600)
    r = lab(d, "host", "up", "bootstrap", "--become-password-file", str(wrong))
    assert r.returncode == 1 and "sudo rejected the become password for alice" in r.stderr, r.stderr


def test_a_user_without_sudo_is_named(native: Native) -> None:
    bob = native.host.add_user("bob")
    r = lab(_project(native, "nosudo", bob.inventory_line("h1")), "host", "up", "bootstrap")
    assert r.returncode == 1
    assert "host h1 (bob@127.0.0.1" in r.stderr and "no sudo" in r.stderr, r.stderr


def test_an_unsafe_password_file_is_refused(native: Native) -> None:
    loose = native.root / "loose-pw"
    loose.write_text(PASSWORD)
    loose.chmod(0o644)
    r = lab(
        _project(native, "loose", native.alice.inventory_line("h1")), "host", "up", "--become-password-file", str(loose)
    )
    assert r.returncode == 2 and "is readable by other users" in r.stderr and f"chmod 600 {loose}" in r.stderr


def test_a_local_connection_is_refused_unless_allowed(native: Native) -> None:
    d = _project(native, "local", "me ansible_connection=local")
    r = lab(d, "host", "up", "bootstrap")
    assert r.returncode == 2
    assert "host me has ansible_connection=local" in r.stderr and "--allow-local" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = lab(d, "host", "up", "bootstrap", "--allow-local", "--dry-run")
    assert r.returncode == 0, r.stderr
    (d / "inventory.ini").write_text("[ldap]\nme ansible_connection=local lab_allow_local=true\n")
    assert lab(d, "host", "up", "bootstrap", "--dry-run").returncode == 0


def test_converges_as_a_password_sudo_user(native: Native) -> None:
    assert native.first.returncode == 0, native.first.stdout + native.first.stderr
    assert PASSWORD not in native.first.stdout + native.first.stderr
    assert not list((native.lab / ".lab" / "host").glob(".become-password*"))
    targets = json.loads((native.lab / ".lab" / "host" / "targets.json").read_text())
    assert targets["become_password_file"] == str(native.password_file)


def test_status_reports_each_service_from_systemd(native: Native) -> None:
    r = lab(native.lab, "status", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    states = {s["service"]: s for s in json.loads(r.stdout)["services"]}
    assert set(states) == {"openldap", "ldap-ui"}  # no agent package: no agent unit, not listed
    assert states["openldap"]["state"] == "running" and states["openldap"]["container"] == "h1:slapd"
    assert states["ldap-ui"]["container"] == "h1:ldap-ui"


def test_creds_are_true_for_the_native_host(native: Native) -> None:
    r = lab(native.lab, "creds", "--json")
    assert r.returncode == 0, r.stderr
    card = {e["label"]: e["value"] for e in json.loads(r.stdout)}
    text = "\n".join(card.values())
    assert "openldap:1636" not in text and "0.0.0.0" not in text and "data/openldap" not in text
    assert card["LDAP URL"].startswith("ldap://127.0.0.1:")
    ca = card["CA certificate"]
    assert ca == "data/host-h1/openldap/ca.crt" and (native.lab / ca).is_file()
    assert "ssh -N -L" in card["Reach it"] and f"-p {native.host.ssh_port} alice@127.0.0.1" in card["Reach it"]


def test_check_mode_on_the_converged_host_changes_nothing(native: Native) -> None:
    r = lab(native.lab, "host", "up", "ldap", "--check", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    [bootstrap_and_ldap] = json.loads(r.stdout)
    assert bootstrap_and_ldap["ok"] and bootstrap_and_ldap["changes"] == [], bootstrap_and_ldap


def test_check_mode_on_a_fresh_host_reports_and_changes_nothing(native: Native) -> None:
    ubuntu = native.fresh.add_sudo_user("ubuntu")
    d = _project(native, "fresh", ubuntu.inventory_line("fresh"))
    r = lab(d, "host", "up", "ldap", "--check", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    [summary] = json.loads(r.stdout)
    assert summary["ok"] and summary["check"]
    tasks = [c["task"] for c in summary["changes"]]
    assert "Ensure slapd is installed" in " ".join(tasks) or any("slapd" in t for t in tasks), tasks
    assert summary["hosts"][0]["changed"] == len(summary["changes"]), summary  # the list is the count
    untouched = native.fresh.exec("sh", "-c", "test ! -e /opt/okta-lab && ! dpkg -s slapd >/dev/null 2>&1")
    assert untouched.returncode == 0


def test_verify_of_the_loopback_lab_passes_through_ssh(native: Native) -> None:
    r = lab(native.lab, "host", "verify", "ldap", "--json")
    report = json.loads(r.stdout)
    failed = [x for x in report["results"] if x["outcome"] not in ("passed", "skipped")]
    assert r.returncode == 0 and not failed, failed or r.stderr
    assert sum(x["outcome"] == "passed" for x in report["results"]) >= 10


def test_verify_says_what_to_change_when_a_service_is_unreachable(native: Native) -> None:
    native.host.exec("systemctl", "stop", "ldap-ui")
    try:
        r = lab(native.lab, "host", "verify", "ldap")
        assert r.returncode == 1
        assert "could not reach a service through the SSH tunnel" in r.stderr and "lab status" in r.stderr
    finally:
        native.host.exec("systemctl", "start", "ldap-ui")


def test_down_stops_the_units_and_up_starts_them(native: Native) -> None:
    r = lab(native.lab, "down")
    assert r.returncode == 0, r.stderr
    assert "units are stopped" in r.stdout
    assert native.host.exec("systemctl", "is-active", "slapd").stdout.strip() == "inactive"
    r = lab(native.lab, "status", "--json")
    assert {s["state"] for s in json.loads(r.stdout)["services"]} == {"stopped"}
    r = lab(native.lab, "status")
    assert r.returncode == 1 and "stopped" in r.stdout
    r = lab(native.lab, "up")
    assert r.returncode == 0, r.stdout + r.stderr
    assert native.host.exec("systemctl", "is-active", "slapd", "ldap-ui").stdout.split() == ["active", "active"]
    assert "LDAP URL" in r.stdout and "0.0.0.0" not in r.stdout


def test_destroy_asks_then_removes_the_lab_from_the_host(native: Native) -> None:
    r = lab(native.lab, "destroy", input="n\n")
    assert r.returncode == 1 and "Stop openldap, ldap-ui on the hosts of" in r.stdout
    assert native.host.exec("systemctl", "is-active", "slapd").stdout.strip() == "active"
    r = lab(native.lab, "destroy", "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "h1:slapd" in r.stdout and "h1:/etc/ldap/okta-lab" in r.stdout
    gone = native.host.exec("sh", "-c", "dpkg -s slapd; test -e /etc/ldap/okta-lab; systemctl cat ldap-ui")
    assert "is not installed" in gone.stderr and "No files found for ldap-ui" in gone.stderr, gone.stderr
    assert not (native.lab / ".lab").exists() and not (native.lab / "data").exists()
    assert lab(native.lab, "status").returncode != 0
