"""Checks of the LDAP lab (`lab verify ldap`), the same on Docker and on a native host.

One behaviour per test. Probes go to `lab.addr` and the published ports; process, socket and file
checks go through `lab.host("openldap")` (the container on Docker, the machine on a host).
"""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import ldap3
import pytest

from lab.company import Company, load_company
from lab.ldap import api, scenarios
from lab.ldap.client import Directory

CA_PATH = {"docker": "/data/certs/ca.crt", "host": "/etc/ldap/okta-lab/certs/ca.crt"}
PORTS = {"docker": (1389, 1636)}


@pytest.fixture(scope="module")
def company(lab: Any) -> Company:
    return load_company(lab.cfg.core.company)


def _server(lab: Any) -> ldap3.Server:
    return ldap3.Server(lab.addr, port=lab.port("LDAP_PORT"), connect_timeout=5, get_info=ldap3.NONE)


def _conn(lab: Any, dn: str | None = None, password: str | None = None) -> ldap3.Connection:
    return ldap3.Connection(_server(lab), dn, password, receive_timeout=30)


@pytest.fixture(scope="module")
def admin(lab: Any) -> Iterator[ldap3.Connection]:
    conn = lab.wait(lambda: _bound(lab), timeout=120)
    yield conn
    conn.unbind()


def _bound(lab: Any) -> ldap3.Connection | None:
    conn = _conn(lab, lab.cfg.ldap.admin_dn, lab.cfg.ldap.admin_password)
    return conn if conn.bind() else None


@pytest.fixture(scope="module")
def directory(lab: Any, admin: ldap3.Connection) -> Iterator[Directory]:
    d = Directory(api.endpoint(lab.cfg, lab.addr, lab.port("LDAP_PORT")))
    yield d
    d.close()


def _dn_of(admin: ldap3.Connection, base: str, login: str) -> str:
    admin.search(base, f"(uid={login})", attributes=["1.1"])
    assert admin.entries, f"{login} is not in the directory"
    return str(admin.entries[0].entry_dn)


def _ca_pem(lab: Any) -> str:
    return str(lab.host("openldap").file(CA_PATH[lab.target]).content_string)


# --- the service ---------------------------------------------------------------------------


def test_slapd_runs_as_openldap(lab: Any) -> None:
    procs = lab.host("openldap").process.filter(comm="slapd")
    assert procs, lab.logs("openldap")
    assert {p.user for p in procs} == {"openldap"}


def test_slapd_listens_on_ldap_and_ldaps(lab: Any) -> None:
    host = lab.host("openldap")
    ldap_port, ldaps_port = PORTS.get(lab.target, (lab.service_port("LDAP_PORT"), lab.service_port("LDAPS_PORT")))
    for port in (ldap_port, ldaps_port):
        assert lab.listening(host, port), f"nothing listens on {port}"


def test_ldaps_handshake_with_the_lab_ca(lab: Any) -> None:
    ctx = ssl.create_default_context(cadata=_ca_pem(lab))
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=_ca_pem(lab))
    server = ldap3.Server("localhost" if lab.addr.startswith("127.") else lab.addr,
                          port=lab.port("LDAPS_PORT"), use_ssl=True, tls=tls,
                          get_info=ldap3.NONE, connect_timeout=5)  # fmt: skip
    conn = ldap3.Connection(server, lab.cfg.ldap.admin_dn, lab.cfg.ldap.admin_password)
    assert conn.bind(), conn.result
    conn.unbind()
    assert ctx.get_ca_certs(), "the exported CA certificate parses"


def test_anonymous_search_returns_nothing(lab: Any) -> None:
    conn = _conn(lab)
    assert conn.bind()
    conn.search(lab.cfg.ldap.base_dn, "(objectClass=*)", attributes=["uid"])
    assert conn.entries == []


# --- the sample data -----------------------------------------------------------------------


def test_every_sample_user_binds_with_the_demo_password(lab: Any, admin: ldap3.Connection, company: Company) -> None:
    failed = []
    for person in company.people:
        dn = _dn_of(admin, lab.cfg.ldap.base_dn, person.login(lab.cfg.ldap.mail_domain))
        conn = _conn(lab, dn, lab.cfg.ldap.demo_password)
        if not conn.bind():
            failed.append(person.uid)
        conn.unbind()
    assert not failed, f"cannot bind: {failed}"


def test_wrong_password_is_refused(lab: Any, admin: ldap3.Connection, company: Company) -> None:
    person = company.people[0]
    dn = _dn_of(admin, lab.cfg.ldap.base_dn, person.login(lab.cfg.ldap.mail_domain))
    wrong = _conn(lab, dn, "definitely-not-the-password")
    assert not wrong.bind()
    assert wrong.result["result"] == 49
    assert _conn(lab, dn, lab.cfg.ldap.demo_password).bind()  # resets a password-policy counter


def test_group_members_and_member_of_match_the_data_file(lab: Any, admin: ldap3.Connection, company: Company) -> None:
    base, mail = lab.cfg.ldap.base_dn, lab.cfg.ldap.mail_domain
    dns = {p.uid: _dn_of(admin, base, p.login(mail)).lower() for p in company.people}
    for group in company.groups:
        admin.search(f"ou=Groups,{base}", f"(cn={group.name})", attributes=["uniqueMember"])
        assert admin.entries, f"group {group.name} is missing"
        members = {str(v).lower() for v in admin.entries[0].entry_attributes_as_dict["uniqueMember"]}
        assert {dns[uid] for uid in group.members} <= members, group.name
    for person in company.people[:50]:
        admin.search(dns[person.uid], "(objectClass=*)", ldap3.BASE, attributes=["memberOf"])
        got = {str(v).split(",")[0][3:] for v in admin.entries[0].entry_attributes_as_dict.get("memberOf", [])}
        assert set(person.groups) <= got, person.uid


# --- scenarios: each one that has been applied shows its whole effect ------------------------


def test_clear_text_passwords_are_hashed_by_ppolicy(lab: Any, directory: Directory) -> None:
    dn = directory.overlay_dn("ppolicy")
    assert dn, "no ppolicy overlay on the data database"
    directory.config.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["olcPPolicyHashCleartext"])
    assert str(directory.config.entries[0].olcPPolicyHashCleartext).upper() == "TRUE"


def _state(lab: Any, directory: Directory) -> dict[str, bool]:
    with api.scenario_context(lab.cfg, lab.addr, lab.port("LDAP_PORT")) as ctx:
        return scenarios.status(ctx)


def test_schema_scenario_effect(lab: Any, directory: Directory, admin: ldap3.Connection) -> None:
    directory.config.search("cn=schema,cn=config", "(cn=*lucasfilmperson)", ldap3.LEVEL)
    if not directory.config.entries:
        pytest.skip("scenario schema not applied")
    assert directory.overlay_dn("constraint"), "constraint overlay missing"
    admin.search(lab.cfg.ldap.base_dn, "(objectClass=LucasfilmPerson)", attributes=["1.1"])
    if admin.entries:
        dn = admin.entries[0].entry_dn
        assert not admin.modify(dn, {"species": [(ldap3.MODIFY_REPLACE, ["Jawa"])]})
        assert admin.result["result"] == 19


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("species", "(objectClass=LucasfilmPerson)"),
        ("add-users", "(uid=jarjar.binks@*)"),
        ("faction-ous", "(&(objectClass=organizationalUnit)(|(ou=Jedi)(ou=Empire)))"),
        ("password-policy", "(&(objectClass=pwdPolicy)(pwdMinLength=*))"),  # the base policy has none
    ],
)
def test_applied_scenario_is_complete(
    lab: Any, directory: Directory, admin: ldap3.Connection, name: str, marker: str
) -> None:
    admin.search(lab.cfg.ldap.base_dn, marker, attributes=["1.1"])
    if not admin.entries:
        pytest.skip(f"scenario {name} not applied")
    assert _state(lab, directory)[name], f"scenario {name} is only partly applied"


def test_no_dangling_member_or_manager_references(lab: Any, directory: Directory, admin: ldap3.Connection) -> None:
    base = lab.cfg.ldap.base_dn
    admin.search(base, "(|(uniqueMember=*)(manager=*))", attributes=["uniqueMember", "manager"])
    refs = {str(v) for e in admin.entries for a in ("uniqueMember", "manager")
            for v in e.entry_attributes_as_dict.get(a, [])}  # fmt: skip
    dangling = [dn for dn in refs if not directory.exists(dn)]
    assert not dangling, dangling[:5]


def test_moved_users_are_all_in_their_ou(lab: Any, directory: Directory, admin: ldap3.Connection) -> None:
    admin.search(f"ou=Jedi,ou=People,{lab.cfg.ldap.base_dn}", "(uid=*)", attributes=["1.1"])
    if not admin.entries:
        pytest.skip("scenario move-to-ous not applied")
    assert _state(lab, directory)["move-to-ous"], "some users were not moved"


# --- ldap-ui ---------------------------------------------------------------------------------


def _ui(lab: Any, path: str, auth: tuple[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(f"http://{lab.addr}:{lab.port('LDAP_UI_PORT')}{path}")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_ldap_ui_answers_and_logs_in_as_admin(lab: Any) -> None:
    lab.require("ldap-ui")
    status, _ = lab.wait(lambda: _ui(lab, "/"), timeout=60)
    assert status == 200
    status, body = _ui(lab, "/api/whoami", ("admin", lab.cfg.ldap.admin_password))
    assert status == 200 and lab.cfg.ldap.admin_dn in body


def test_ldap_ui_directory_api_needs_a_login(lab: Any) -> None:
    lab.require("ldap-ui")
    status, _ = _ui(lab, "/api/tree/base")
    assert status == 401
    status, _ = _ui(lab, f"/api/entry/{lab.cfg.ldap.base_dn}")
    assert status == 401
