"""The native LDAP lab: the openldap, ldap_ui and okta_ldap_agent roles on a bare systemd test host.

One host for the module: converge `playbooks/ldap.yml` with a fake agent package twice (the second
run changes nothing), pass the same `tests/infra/test_ldap.py` checks as Docker, then refuse a
broken agent package with one clear line. (`tests/integration/test_roles.py` covers the run
without a package.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.config import LabConfig
from lab.context import LabContext
from lab.host.ansible import Idempotence, converge_twice, run_playbook
from lab.host.playbooks import PLAYBOOKS
from lab.targets.host import host_verify, plan, render
from tests.fakes.deb.okta_ldap_agent import build_fake_agent_deb, write_invalid_deb
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
PLAYBOOK = PLAYBOOKS / "ldap.yml"


@dataclass
class NativeLdap:
    ctx: LabContext
    host: TestHost
    runs: Idempotence


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeLdap]:
    require_docker()
    build_image()
    root = tmp_path_factory.mktemp("native-ldap")
    key = make_key(root)
    lab_dir = write_lab(root / "lab", "", OKTA_ORG="example.okta.com", **free_port_overrides(port_keys()))
    build_fake_agent_deb(lab_dir / "packages")
    host = start_host(key, lab_ports(lab_dir / ".env"))
    (lab_dir / "inventory.ini").write_text(f"[ldap]\n{host.inventory_line('testhost')}\n")
    ctx = LabContext(root=lab_dir)
    try:
        runs = converge_twice(render(ctx, plan(ctx, ["ldap"])), PLAYBOOK)
        yield NativeLdap(ctx, host, runs)
    finally:
        host.remove()


def test_second_run_changes_nothing(native: NativeLdap) -> None:
    assert native.runs.first.changed > 0
    assert not native.runs.changed_on_second, native.runs.report()


def test_the_infra_checks_pass_on_the_host(native: NativeLdap) -> None:
    report = host_verify(native.ctx, ["ldap"])
    failed = [r for r in report.results if r.outcome not in ("passed", "skipped")]
    assert not failed, failed
    assert sum(r.outcome == "passed" for r in report.results) >= 10


def test_clear_text_password_from_the_admin_is_stored_hashed(native: NativeLdap) -> None:
    def sh(script: str) -> str:
        r = native.host.exec("sh", "-c", script)
        assert r.returncode == 0, r.stderr
        return r.stdout

    base = LabConfig.from_env(native.ctx.env_path).ldap.base_dn
    search = "ldapsearch -Q -LLL -o ldif-wrap=no -Y EXTERNAL -H ldapi:///"
    before = sh(f"{search} -b '{base}' '(uid=yoda@*)' userPassword")
    dn = before.split("dn: ", 1)[1].split("\n", 1)[0].strip()
    old_hash = before.split("userPassword:: ", 1)[1].split("\n", 1)[0].strip()

    def set_password(line: str) -> None:
        ldif = f"dn: {dn}\nchangetype: modify\nreplace: userPassword\n{line}\n"
        sh(f"printf '%s' '{ldif}' | ldapmodify -Q -Y EXTERNAL -H ldapi:/// >/dev/null")

    set_password("userPassword: Clear-Text-Yoda-1")
    try:
        assert "userPassword:: e1NTSEF9" in sh(f"{search} -b '{dn}' -s base userPassword")  # "{SSHA}"
        assert dn in sh(f"ldapwhoami -x -H ldapi:/// -D '{dn}' -w Clear-Text-Yoda-1")
    finally:
        set_password(f"userPassword:: {old_hash}")


def test_slapd_serves_the_configured_ports_only(native: NativeLdap) -> None:
    cfg = native.ctx.root / ".env"
    text = cfg.read_text()
    port = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("LDAP_PORT="))
    r = native.host.exec("sh", "-c", "cat /etc/default/slapd; ss -ltn")
    assert f"ldap://:{port}/" in r.stdout
    assert ":389 " not in r.stdout


def test_agent_is_installed_with_the_lab_ca_and_waits_for_registration(native: NativeLdap) -> None:
    r = native.host.exec(
        "sh",
        "-c",
        "dpkg-query -W -f='${Version}' oktaldapagent; echo;"
        " cat /opt/Okta/OktaLDAPAgent/conf/InstallOktaLDAPAgent.conf;"
        " cat /opt/Okta/OktaLDAPAgent/jre/lib/security/keytool.log;"
        " cat /var/lib/oktaldapagent/lab-status",
    )
    assert r.returncode == 0, r.stderr
    assert "99.00.00-fake" in r.stdout
    assert "orgUrl=https://example.okta.com/" in r.stdout
    assert "ldapUseSSL=true" in r.stdout
    assert "-importcert" in r.stdout and "-file /etc/ldap/okta-lab/certs/ca.crt" in r.stdout
    assert r.stdout.count("-importcert") == 1  # imported once, not on every run
    assert "waiting for registration" in r.stdout


def test_a_broken_agent_package_fails_with_one_clear_line(native: NativeLdap) -> None:
    packages = native.ctx.root / "packages"
    keep = native.ctx.root / "packages.good"
    shutil.move(packages, keep)
    try:
        bad = write_invalid_deb(packages)
        summary = run_playbook(render(native.ctx, plan(native.ctx, ["ldap"])), PLAYBOOK)
    finally:
        shutil.rmtree(packages)
        shutil.move(keep, packages)
    assert not summary.ok
    messages = " ".join(f.message for f in summary.failures)
    assert f"{bad.name} is not a valid .deb package" in messages
    # the directory is untouched: the installed agent and slapd are still there
    r = native.host.exec("sh", "-c", "dpkg-query -W -f='${Version}' oktaldapagent; systemctl is-active slapd")
    assert "99.00.00-fake" in r.stdout and "active" in r.stdout


def _port(ctx: LabContext, key: str) -> str:
    return next(line.split("=", 1)[1] for line in (ctx.root / ".env").read_text().splitlines() if line.startswith(key))


def test_lab_ca_is_copied_back_to_the_controller(native: NativeLdap) -> None:
    ca = Path(native.ctx.root) / "data" / "host-testhost" / "openldap" / "ca.crt"
    assert ca.is_file() and b"BEGIN CERTIFICATE" in ca.read_bytes()
    r = native.host.exec("cat", "/etc/ldap/okta-lab/certs/ca.crt")
    assert r.stdout.encode() == ca.read_bytes()
    assert _port(native.ctx, "LDAPS_PORT=")
