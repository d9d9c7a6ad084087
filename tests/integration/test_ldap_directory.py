"""The openldap image against real slapd: base data, ACLs, TLS, scenarios, persistence.

One container per module (built once); the scenario tests run last in file order because they
change the directory. Uses the published loopback ports only.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import ldap3
import pytest
from dotenv import dotenv_values

from lab import RESOURCES
from lab.card import demo_card
from lab.catalog import load_catalog
from lab.company import load_company
from lab.config import LabConfig
from lab.envfile import example_path, generate_secret, render_env, secret_lengths
from lab.ldap import api, scenarios
from lab.render import base_context, template_env

pytestmark = pytest.mark.docker
IMAGE = "okta-lab-test/openldap:dev"
TEMPLATES = ("10-base", "20-people", "30-groups")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_env(**overrides: str) -> dict[str, str]:
    """A valid `.env` mapping: the example with fresh secrets, free ports and `overrides`."""
    text = render_env(example_path().read_text(), {})
    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    for key, length in secret_lengths().items():
        if not values.get(key) and "_S3_" not in key:
            values[key] = generate_secret(length)
    values.update(LDAP_PORT=str(free_port()), LDAPS_PORT=str(free_port()), **overrides)
    return values


def render_ldif(cfg: LabConfig, out: Path) -> None:
    env = template_env()
    ctx = base_context(cfg, [])
    out.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        (out / f"{name}.ldif").write_text(env.get_template(f"ldif/{name}.ldif.j2").render(**ctx))


class Slapd:
    """A running openldap container for one config, with its data directory."""

    def __init__(self, name: str, cfg: LabConfig, root: Path) -> None:
        self.name, self.cfg, self.root = name, cfg, root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        render_ldif(cfg, root / "ldif")

    def start(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)
        ld = self.cfg.ldap
        cmd = [
            "docker", "run", "-d", "--init", "--name", self.name, "--hostname", "openldap",
            "-e", f"LDAP_DOMAIN={ld.domain}", "-e", f"LDAP_BASE_DN={ld.base_dn}",
            "-e", f"LDAP_ORGANIZATION={ld.organization}", "-e", "LDAP_CERT_HOSTNAME=labhost.test",
            "-e", "LDAP_ADMIN_PASSWORD", "-e", "LDAP_CONFIG_PASSWORD",
            "-v", f"{self.data}:/data", "-v", f"{self.root / 'ldif'}:/lab/ldif:ro",
            "-p", f"127.0.0.1:{ld.port}:1389", "-p", f"127.0.0.1:{ld.ldaps_port}:1636", IMAGE,
        ]  # fmt: skip
        env = {**os.environ, "LDAP_ADMIN_PASSWORD": ld.admin_password,
               "LDAP_CONFIG_PASSWORD": ld.config_password}  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 120) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            probe = ["docker", "exec", self.name, "/usr/local/bin/lab-healthcheck"]
            if subprocess.run(probe, capture_output=True).returncode == 0:
                return time.monotonic() - start
            time.sleep(0.5)
        pytest.fail(f"{self.name} not healthy:\n{self.logs()}")

    def logs(self) -> str:
        return subprocess.run(["docker", "logs", self.name], capture_output=True, text=True).stdout

    def stop(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)

    def conn(self, dn: str | None = None, password: str | None = None) -> ldap3.Connection:
        server = ldap3.Server("127.0.0.1", port=self.cfg.ldap.port, connect_timeout=5)
        return ldap3.Connection(server, dn, password)

    def admin(self) -> ldap3.Connection:
        c = self.conn(self.cfg.ldap.admin_dn, self.cfg.ldap.admin_password)
        assert c.bind(), c.result
        return c


@pytest.fixture(scope="session")
def openldap_image(docker_engine: None) -> str:
    subprocess.run(
        ["docker", "build", "--force-rm", "-q", "-t", IMAGE, str(RESOURCES / "compose" / "openldap")],
        check=True, capture_output=True,
    )  # fmt: skip
    return IMAGE


@pytest.fixture(scope="module")
def slapd(openldap_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    cfg = LabConfig.from_mapping(make_env())
    server = Slapd(f"ldaptest-{os.getpid()}", cfg, tmp_path_factory.mktemp("ldap"))
    server.start()
    yield server
    server.stop()


def user_dn(cfg: LabConfig, uid: str) -> str:
    return f"uid={uid}@{cfg.ldap.mail_domain},ou=People,{cfg.ldap.base_dn}"


# --- base data and access control --------------------------------------------------------------


def test_every_sample_user_binds_with_the_demo_password(slapd: Slapd) -> None:
    for person in load_company("galaxy").people:
        c = slapd.conn(user_dn(slapd.cfg, person.uid), slapd.cfg.ldap.demo_password)
        assert c.bind(), (person.uid, c.result)


def test_wrong_password_is_refused(slapd: Slapd) -> None:
    c = slapd.conn(user_dn(slapd.cfg, "yoda"), "not-the-password")
    assert not c.bind()
    assert c.result["result"] == 49


def test_anonymous_sees_only_the_root_dse(slapd: Slapd) -> None:
    c = slapd.conn()
    assert c.bind()
    assert not c.search(slapd.cfg.ldap.base_dn, "(objectClass=*)")
    assert c.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"])
    assert str(c.entries[0].namingContexts) == slapd.cfg.ldap.base_dn


def test_memberof_matches_the_data_file(slapd: Slapd) -> None:
    conn = slapd.admin()
    for person in load_company("galaxy").people:
        conn.search(user_dn(slapd.cfg, person.uid), "(objectClass=*)", ldap3.BASE,
                    attributes=["memberOf"])  # fmt: skip
        got = {str(v).split(",")[0][3:] for v in conn.entries[0].memberOf.values}
        assert got == set(person.groups), person.uid


def test_users_cannot_read_password_hashes(slapd: Slapd) -> None:
    c = slapd.conn(user_dn(slapd.cfg, "han.solo"), slapd.cfg.ldap.demo_password)
    assert c.bind()
    c.search(user_dn(slapd.cfg, "leia.organa"), "(objectClass=*)", ldap3.BASE,
             attributes=["userPassword", "cn"])  # fmt: skip
    assert c.entries and not c.entries[0].entry_attributes_as_dict.get("userPassword")


def _stored_password(conn: ldap3.Connection, dn: str) -> bytes:
    conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["userPassword"])
    return bytes(conn.entries[0].userPassword.value)


def test_clear_text_password_set_by_the_admin_is_stored_hashed(slapd: Slapd) -> None:
    conn, dn = slapd.admin(), user_dn(slapd.cfg, "chewbacca")
    new = "Clear-Text-Wookiee-1"
    try:
        assert conn.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [new])]}), conn.result
        assert _stored_password(conn, dn).startswith(b"{SSHA}")
        assert slapd.conn(dn, new).bind()
    finally:
        conn.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [slapd.cfg.ldap.demo_password])]})
    assert _stored_password(conn, dn).startswith(b"{SSHA}")
    assert slapd.conn(dn, slapd.cfg.ldap.demo_password).bind()


def test_new_entry_with_a_clear_text_password_is_stored_hashed(slapd: Slapd) -> None:
    conn = slapd.admin()
    dn = f"uid=ui.created@galaxy.local,ou=People,{slapd.cfg.ldap.base_dn}"
    attrs = {"cn": "UI Created", "sn": "Created", "userPassword": "Clear-Text-From-The-UI-1"}
    try:
        assert conn.add(dn, ["inetOrgPerson"], attrs), conn.result
        assert _stored_password(conn, dn).startswith(b"{SSHA}")
        assert slapd.conn(dn, "Clear-Text-From-The-UI-1").bind()
    finally:
        conn.delete(dn)


def test_card_disable_advice_disables_and_re_enables_a_user(slapd: Slapd, tmp_path: Path) -> None:
    comp = load_catalog().get("openldap")
    card = {e.label: e.value for e in demo_card(slapd.cfg, [comp], reveal=True, data_dir=tmp_path)}
    attr, disabled = card["Okta: Account disabled attribute"], card["Okta: Account disabled value"]
    conn, dn = slapd.admin(), user_dn(slapd.cfg, "lando.calrissian")
    try:
        assert conn.modify(dn, {attr: [(ldap3.MODIFY_REPLACE, [disabled])]}), conn.result
        refused = slapd.conn(dn, slapd.cfg.ldap.demo_password)
        assert not refused.bind() and refused.result["result"] == 49
        assert conn.search(slapd.cfg.ldap.base_dn, f"({attr}={disabled})", attributes=["uid"])
        assert [e.entry_dn for e in conn.entries] == [dn]
    finally:
        assert conn.modify(dn, {attr: [(ldap3.MODIFY_DELETE, [])]}), conn.result
    assert slapd.conn(dn, slapd.cfg.ldap.demo_password).bind()


def test_wrong_passwords_do_not_lock_an_account_in_the_base_config(slapd: Slapd) -> None:
    dn = user_dn(slapd.cfg, "lando.calrissian")
    for _ in range(5):
        assert not slapd.conn(dn, "not-the-password").bind()
    assert slapd.conn(dn, slapd.cfg.ldap.demo_password).bind()


def test_ldaps_handshake_trusts_the_lab_ca_and_names_the_hosts(slapd: Slapd) -> None:
    ca = slapd.data / "certs" / "ca.crt"
    ctx = ssl.create_default_context(cafile=str(ca))
    addr = ("127.0.0.1", slapd.cfg.ldap.ldaps_port)
    with (
        socket.create_connection(addr, timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        cert = tls.getpeercert()
    names = {v for k, v in cert["subjectAltName"] if k == "DNS"}
    assert {"openldap", "localhost", "labhost.test"} <= names


# --- scenarios ---------------------------------------------------------------------------------


def test_unknown_scenario_is_rejected_before_connecting() -> None:
    with pytest.raises(Exception, match="unknown scenario 'nope'"):
        scenarios.plan(["nope"])


def test_move_to_ous_applies_its_prerequisite_first(slapd: Slapd) -> None:
    outcomes = api.apply_scenarios(slapd.cfg, ["move-to-ous"])
    assert [(o.name, o.prerequisite) for o in outcomes] == [
        ("faction-ous", True),
        ("move-to-ous", False),
    ]
    conn = slapd.admin()
    conn.search(f"ou=Resistance,ou=People,{slapd.cfg.ldap.base_dn}", "(uid=han.solo@*)")
    assert len(conn.entries) == 1  # the public lab's step left Han behind


def test_groups_and_managers_follow_moved_users(slapd: Slapd) -> None:
    conn = slapd.admin()
    base = slapd.cfg.ldap.base_dn
    luke = f"uid=luke.skywalker@galaxy.local,ou=Jedi,ou=People,{base}"
    conn.search(f"cn=Pilots,ou=Groups,{base}", "(objectClass=*)", ldap3.BASE,
                attributes=["uniqueMember"])  # fmt: skip
    assert luke in conn.entries[0].uniqueMember.values
    conn.search(base, "(|(manager=*)(uniqueMember=*))", attributes=["manager", "uniqueMember"])
    refs = {str(v) for e in conn.entries for a in ("manager", "uniqueMember")
            for v in e.entry_attributes_as_dict.get(a, [])}  # fmt: skip
    missing = [dn for dn in refs if not conn.search(dn, "(objectClass=*)", ldap3.BASE)]
    assert not missing, f"dangling references after the move: {missing}"
    conn.search(base, "(uid=r2-d2@galaxy.local)", attributes=["manager", "memberOf"])
    assert str(conn.entries[0].manager) == luke
    assert len(conn.entries[0].memberOf.values) == 3


def test_apply_all_then_again_changes_nothing(slapd: Slapd) -> None:
    first = api.apply_scenarios(slapd.cfg, list(scenarios.NAMES))
    assert {o.name for o in first if o.changed} >= {"schema", "species", "add-users"}
    second = api.apply_scenarios(slapd.cfg, list(scenarios.NAMES))
    assert [o.changed for o in second] == [False] * len(scenarios.NAMES)
    states = api.list_scenarios(slapd.cfg)
    assert all(s.applied for s in states)


def test_scenario_effects_are_present(slapd: Slapd) -> None:
    conn = slapd.admin()
    base = slapd.cfg.ldap.base_dn
    conn.search(base, "(species=Wookiee)", attributes=["uid"])
    assert [str(e.uid) for e in conn.entries] == ["chewbacca@galaxy.local"]
    conn.search(base, "(uid=jarjar.binks@galaxy.local)", attributes=["memberOf"])
    assert {str(v).split(",")[0] for v in conn.entries[0].memberOf.values} == {
        "cn=Gungan-Grand-Army", "cn=Light-Side", "cn=Naboo-Delegation"}  # fmt: skip
    jar = slapd.conn(str(conn.entries[0].entry_dn), slapd.cfg.ldap.demo_password)
    assert jar.bind(), "added users bind with the demo password too"
    conn.search(f"cn=default,ou=pwpolicy,{base}", "(objectClass=pwdPolicy)", ldap3.BASE)
    assert len(conn.entries) == 1


def test_constraint_overlay_rejects_unknown_species(slapd: Slapd) -> None:
    conn = slapd.admin()
    conn.search(slapd.cfg.ldap.base_dn, "(uid=yoda@galaxy.local)")
    dn = conn.entries[0].entry_dn
    assert not conn.modify(dn, {"species": [(ldap3.MODIFY_REPLACE, ["Jawa"])]})
    assert conn.result["result"] == 19  # constraintViolation


def test_cli_apply_all_is_idempotent_and_unknown_name_fails(slapd: Slapd, tmp_path: Path) -> None:
    env = "\n".join(f"{k}={v}" for k, v in slapd.cfg.raw.items()) + "\n"
    (tmp_path / ".env").write_text(env)
    lab = shutil.which("lab") or str(Path(os.sys.executable).parent / "lab")
    ok = subprocess.run([lab, "-C", str(tmp_path), "ldap", "scenario", "apply", "--all"],
                        capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "changed" not in ok.stdout
    bad = subprocess.run([lab, "-C", str(tmp_path), "ldap", "scenario", "apply", "warp-drive"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2
    assert "unknown scenario 'warp-drive'" in bad.stderr


# --- persistence -------------------------------------------------------------------------------


def test_recreate_keeps_entries_certificates_and_passwords(slapd: Slapd) -> None:
    ca_before = (slapd.data / "certs" / "ca.crt").read_bytes()
    conn = slapd.admin()
    conn.search(slapd.cfg.ldap.base_dn, "(objectClass=inetOrgPerson)")
    before = len(conn.entries)
    slapd.start()  # removes the container and runs a new one on the same data
    assert "first start" not in slapd.logs()
    assert (slapd.data / "certs" / "ca.crt").read_bytes() == ca_before
    conn = slapd.admin()
    conn.search(slapd.cfg.ldap.base_dn, "(objectClass=inetOrgPerson)")
    assert len(conn.entries) == before == 17
    assert slapd.conn(user_dn(slapd.cfg, "leia.organa").replace(
        "ou=People", "ou=Resistance,ou=People"), slapd.cfg.ldap.demo_password).bind()  # fmt: skip


# --- a custom domain ---------------------------------------------------------------------------


def test_custom_domain_gives_the_same_users(openldap_image: str, tmp_path: Path) -> None:
    cfg = LabConfig.from_mapping(make_env(LDAP_DOMAIN="acme.example", LDAP_ORGANIZATION="Acme"))
    server = Slapd(f"ldaptest-acme-{os.getpid()}", cfg, tmp_path)
    try:
        server.start()
        conn = server.admin()
        conn.search("dc=acme,dc=example", "(objectClass=inetOrgPerson)", attributes=["uid"])
        assert len(conn.entries) == 15
        luke = "uid=luke.skywalker@galaxy.local,ou=People,dc=acme,dc=example"
        assert server.conn(luke, cfg.ldap.demo_password).bind()
    finally:
        server.stop()
