"""Checks for the JDBC lab's database (`db`) and DBGate, on Docker or a native host, for MariaDB
and PostgreSQL (JDBC_DATABASE).

SQL runs with the `mariadb` (or `psql`) client on the database host (the container, or the
machine), over TCP as the application user, so the checks see exactly what Okta's connector sees.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lab.jdbc.sql import PROCEDURES, VIEWS, call_syntax

PROBE_USER = "lab.verify.probe"
NULLS = ", ".join(["NULL"] * 19)


def run_sql(lab, query: str, database: str | None = None):
    """Run `query` as the application user; return the command result (tab-separated stdout)."""
    return lab.sql(query, database)


def rows(lab, query: str, database: str | None = None) -> list[list[str]]:
    result = run_sql(lab, query, database)
    assert result.rc == 0, f"{query}: {result.stderr}\n{lab.logs('db')}"
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def scalar(lab, query: str, database: str | None = None) -> str:
    return rows(lab, query, database)[0][0]


def error_of(lab, query: str) -> str:
    result = run_sql(lab, query)
    assert result.rc != 0, f"{query} should have failed"
    return result.stderr


def pg(lab) -> bool:
    return bool(lab.cfg.jdbc.is_postgresql)


def call(lab, text: str) -> str:
    """`NAME(args)` as the engine runs it: CALL, or SELECT * FROM for PostgreSQL's functions."""
    name = text.split("(", 1)[0]
    return call_syntax(lab.cfg.jdbc.engine, name, 0).removesuffix("()") + text[len(name):]


def schema(lab) -> str:
    return "current_schema()" if pg(lab) else "DATABASE()"


def table_name(lab, name: str) -> dict:
    """DBGate's name of a lab table (PostgreSQL folds unquoted names to lower case, in `public`)."""
    return {"pureName": name.lower(), "schemaName": "public"} if pg(lab) else {"pureName": name}


def probe_login(lab) -> str:
    return f"{PROBE_USER}@{lab.cfg.ldap.mail_domain}"


def in_lab(lab, service: str) -> bool:
    state = Path(lab.root) / ".lab" / "lab.json"
    try:
        return service in json.loads(state.read_text()).get("services", [service])
    except (OSError, ValueError):
        return True


@pytest.fixture(scope="module")
def luke(lab) -> str:
    return f"luke.skywalker@{lab.cfg.ldap.mail_domain}"


# --- the database service ------------------------------------------------------------------------


def test_mariadbd_runs_as_mysql(lab):
    server, owner = ("postgres", "postgres") if pg(lab) else ("mariadbd", "mysql")
    procs = lab.host("db").process.filter(comm=server)
    assert procs, lab.logs("db")
    assert all(p.user == owner for p in procs)


def test_mariadb_listens_on_3306(lab):
    port = f":{lab.cfg.jdbc.db_port}"
    listening = lab.host("db").socket.get_listening_sockets()
    assert any(s.startswith("tcp://") and s.endswith(port) for s in listening), lab.logs("db")


def test_application_user_runs_a_query(lab):
    query = "SELECT current_database()" if pg(lab) else "SELECT DATABASE()"
    assert scalar(lab, query) == lab.cfg.jdbc.database


def test_wrong_password_is_refused(lab):
    j = lab.cfg.jdbc
    if pg(lab):
        result = lab.host("db").run(
            "PGPASSWORD=not-the-password psql -X -h 127.0.0.1 -U %s -d %s -c 'SELECT 1'", j.user, j.database
        )
        assert result.rc != 0 and "password authentication failed" in result.stderr
        return
    result = lab.host("db").run(
        "MYSQL_PWD=not-the-password mariadb --protocol=tcp -h 127.0.0.1 -u %s -e 'SELECT 1' %s",
        j.user, j.database,
    )  # fmt: skip
    assert result.rc != 0 and "Access denied" in result.stderr


def test_application_user_cannot_do_ddl(lab):
    assert "denied" in error_of(lab, "CREATE TABLE LAB_VERIFY_DDL (A INT)")
    if pg(lab):
        assert "must be owner" in error_of(lab, "DROP FUNCTION GET_ACTIVEUSERS")
        return
    assert "denied" in error_of(lab, "DROP PROCEDURE GET_ACTIVEUSERS")


# --- schema, seed, views ---------------------------------------------------------------------------


def test_every_procedure_exists(lab):
    found = {r[0].upper() for r in rows(lab, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES "
                                             f"WHERE ROUTINE_SCHEMA = {schema(lab)}")}  # fmt: skip
    assert set(PROCEDURES) <= found


def test_every_view_exists(lab):
    found = {r[0].upper() for r in rows(lab, "SELECT TABLE_NAME FROM information_schema.VIEWS "
                                             f"WHERE TABLE_SCHEMA = {schema(lab)}")}  # fmt: skip
    assert set(VIEWS) <= found


def test_seed_counts(lab):
    """Every entitlement and sample user is there; assignments match while the users are untouched."""
    from lab.company import load_company

    company = load_company(lab.cfg.core.company)
    assert int(scalar(lab, "SELECT COUNT(*) FROM ENTITLEMENTS")) == len(company.entitlements)
    sample = [p.login(lab.cfg.ldap.mail_domain) for p in company.people[:50]]
    listed = ", ".join("'" + login.replace("'", "''") + "'" for login in sample)
    assert int(scalar(lab, f"SELECT COUNT(*) FROM USERS WHERE USER_ID IN ({listed})")) == len(sample)
    users = int(scalar(lab, f"SELECT COUNT(*) FROM USERS WHERE USER_ID NOT LIKE '{PROBE_USER}@%'"))
    if users == len(company.people):  # no demo has added users: the seed's assignments are intact
        assert int(scalar(lab, "SELECT COUNT(*) FROM USERENTITLEMENTS")) == company.assignment_count


def test_views_resolve_managers(lab):
    # Managers that exist always resolve (SCIM clients may also write ids the lab does not know).
    unresolved = scalar(lab, "SELECT COUNT(*) FROM V_USER_HIERARCHY WHERE MANAGER_NAME IS NULL "
                             "AND MANAGERID IN (SELECT USER_ID FROM USERS)")  # fmt: skip
    assert unresolved == "0"
    assert int(scalar(lab, "SELECT COUNT(*) FROM V_ACTIVE_USERS WHERE MANAGER_EMAIL IS NOT NULL")) > 0


def test_sample_managers_resolve_by_name(lab):
    from lab.company import load_company

    company = load_company(lab.cfg.core.company)
    mail = lab.cfg.ldap.mail_domain
    people = {p.uid: p for p in company.people}
    for person in list(company.people)[:200]:
        if not person.manager:
            continue
        got = scalar(lab, f"SELECT MANAGER_NAME FROM V_USER_HIERARCHY WHERE USER_ID = '{person.login(mail)}'")
        boss = people[person.manager]
        assert got in (boss.display_name, f"{boss.given_name} {boss.sn}", boss.cn), (person.uid, got)


def test_user_ids_are_the_ldap_logins(lab, luke):
    assert rows(lab, call(lab, f"GET_USER_BY_ID('{luke}')"))[0][:2] == [luke, luke]


# --- procedures ------------------------------------------------------------------------------------


def test_read_procedures_return_rows(lab, luke):
    assert len(rows(lab, call(lab, "GET_ACTIVEUSERS()"))[0]) == 26  # the public lab's 25 columns + EXTERNALID
    assert len(rows(lab, call(lab, "GET_ALL_ENTITLEMENTS()"))) >= 1
    assert len(rows(lab, call(lab, f"GET_USER_ENTITLEMENT('{luke}')"))) >= 1


def test_unknown_ids_give_empty_results(lab):
    assert rows(lab, call(lab, "GET_USER_BY_ID('nobody@lab.invalid')")) == []
    assert rows(lab, call(lab, "GET_USER_ENTITLEMENT('nobody@lab.invalid')")) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("ACTIVATE_USER('nobody@lab.invalid')", "unknown user: nobody@lab.invalid"),
        ("DEACTIVATE_USER('nobody@lab.invalid')", "unknown user: nobody@lab.invalid"),
        (f"UPDATE_USER('nobody@lab.invalid', NULL, NULL, NULL, NULL, {NULLS})", "unknown user"),
        ("ADD_ENTITLEMENT_TO_USER('nobody@lab.invalid', '1')", "unknown user"),
        ("REMOVE_ENTITLEMENT_FROM_USER('nobody@lab.invalid', '1')", "unknown user"),
        ("ADD_ENTITLEMENT_TO_USER('{luke}', '999999')", "unknown entitlement: 999999"),
        ("REMOVE_ENTITLEMENT_FROM_USER('{luke}', '999999')", "unknown entitlement: 999999"),
        ("CREATE_USER('{luke}', '{luke}', 'L', 'S', '{luke}', {nulls})", "duplicate user"),
        (
            "CREATE_USER('x@lab.invalid', 'x@lab.invalid', NULL, 'S', 'x@lab.invalid', {nulls})",
            "missing mandatory field: FIRSTNAME",
        ),  # fmt: skip
    ],
)
def test_procedure_errors_are_clear(lab, luke, call, message):
    stderr = error_of(lab, "CALL " + call.format(luke=luke, nulls=NULLS))
    sqlstate = "45000:" if pg(lab) else "(45000)"
    assert sqlstate in stderr and message in stderr, stderr


def test_provisioning_round_trip(lab, verify_db):
    """Create, update, deactivate, reactivate, grant and revoke on a probe user, then delete it.

    In the verification database: the demo database never sees the probe user.
    """
    uid = probe_login(lab)

    def q(query: str) -> list[list[str]]:
        return rows(lab, query, verify_db)

    run_sql(lab, f"DELETE FROM USERS WHERE USER_ID = '{uid}'", verify_db)
    try:
        q(f"CALL CREATE_USER('{uid}', '{uid}', 'Probe', 'User', '{uid}', {NULLS})")
        q(f"CALL UPDATE_USER('{uid}', NULL, NULL, NULL, NULL, "
          + ", ".join(["NULL"] * 14) + ", 'Verifier', NULL, NULL, NULL, NULL)")  # fmt: skip
        assert q(f"SELECT FIRSTNAME, TITLE FROM USERS WHERE USER_ID = '{uid}'") == [["Probe", "Verifier"]]
        q(f"CALL DEACTIVATE_USER('{uid}')")
        active, ended = q(f"SELECT IS_ACTIVE, TERMINATIONDATE FROM USERS WHERE USER_ID = '{uid}'")[0]
        assert active == "0" and ended != "NULL"
        q(f"CALL ACTIVATE_USER('{uid}')")
        ent = scalar(lab, "SELECT MIN(ENT_ID) FROM ENTITLEMENTS", verify_db)
        q(f"CALL ADD_ENTITLEMENT_TO_USER('{uid}', '{ent}')")
        q(f"CALL ADD_ENTITLEMENT_TO_USER('{uid}', '{ent}')")
        assert len(q(call(lab, f"GET_USER_ENTITLEMENT('{uid}')"))) == 1
        q(f"CALL REMOVE_ENTITLEMENT_FROM_USER('{uid}', '{ent}')")
        assert q(call(lab, f"GET_USER_ENTITLEMENT('{uid}')")) == []
    finally:
        run_sql(lab, f"DELETE FROM USERS WHERE USER_ID = '{uid}'", verify_db)


def test_the_verification_database_mirrors_the_demo(lab, verify_db):
    """Checks that write use a copy with the same procedures; the copy starts as the demo data."""
    for table in ("USERS", "ENTITLEMENTS", "USERENTITLEMENTS"):
        query = f"SELECT COUNT(*) FROM {table}"
        assert scalar(lab, query) == scalar(lab, query, verify_db), table
    routines = (f"SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {schema(lab)}"
                if pg(lab) else "SHOW PROCEDURE STATUS WHERE Db = DATABASE()")  # fmt: skip
    assert rows(lab, routines, verify_db), "no procedures in " + verify_db


# --- DBGate ----------------------------------------------------------------------------------------


class DbGate:
    """A tiny JSON client for DBGate's API (stdlib only: `lab verify` needs no extra package)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, body: dict, token: str = "") -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - the lab's own URL
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def login(self, lab) -> str:
        j = lab.cfg.jdbc
        status, data = self.post(
            "/auth/login", {"amoid": "logins", "login": j.dbgate_login, "password": j.dbgate_password}
        )
        assert status == 200 and isinstance(data, dict) and data.get("accessToken"), data
        return str(data["accessToken"])


@pytest.fixture(scope="module")
def dbgate(lab) -> DbGate:
    if not in_lab(lab, "dbgate"):
        pytest.skip("dbgate is not part of this lab")
    return DbGate(f"http://{lab.addr}:{lab.port('DBGATE_PORT')}")


def test_dbgate_refuses_a_wrong_password(lab, dbgate):
    body = {"amoid": "logins", "login": lab.cfg.jdbc.dbgate_login, "password": "not-the-password"}
    status, data = dbgate.post("/auth/login", body)
    assert status != 200 or not (isinstance(data, dict) and data.get("accessToken"))


def test_dbgate_requires_login(lab, dbgate):
    status, data = dbgate.post("/connections/list", {})
    assert status in (401, 403), data


def test_dbgate_lists_the_lab_connection(lab, dbgate):
    status, conns = dbgate.post("/connections/list", {}, dbgate.login(lab))
    assert status == 200 and isinstance(conns, list), conns
    label = "Lab PostgreSQL" if pg(lab) else "Lab MariaDB"
    assert any(c.get("_id") == "lab" and str(c.get("displayName", "")).startswith(label) for c in conns), conns


def test_dbgate_reads_the_entitlements_table(lab, dbgate):
    query = {
        "conid": "lab",
        "database": lab.cfg.jdbc.database,
        "select": {"commandType": "select", "from": {"name": table_name(lab, "ENTITLEMENTS")}, "selectAll": True},
    }
    status, data = dbgate.post("/database-connections/sql-select", query, dbgate.login(lab))
    assert status == 200 and isinstance(data, dict), data
    assert len(data.get("rows", [])) >= 1, data


def test_dbgate_shows_every_procedure_body(lab, dbgate):
    """The procedures are what the JDBC lab is there to show: DBGate must read their bodies."""
    body = {"conid": "lab", "database": lab.cfg.jdbc.database}
    token = dbgate.login(lab)

    def structure() -> dict:  # DBGate loads a database's structure in the background: poll
        status, data = dbgate.post("/database-connections/structure", body, token)
        assert status == 200 and isinstance(data, dict), data
        return data if data.get("procedures") else {}

    data = lab.wait(structure, timeout=60)
    routines = data.get("procedures", []) + data.get("functions", [])  # PostgreSQL: reads are functions
    shown = {str(p.get("pureName")).upper(): str(p.get("createSql") or "") for p in routines}
    missing = sorted(set(PROCEDURES) - set(shown))
    assert not missing, f"DBGate lists no {missing}"
    marks = ("BEGIN", "SELECT") if pg(lab) else ("BEGIN",)
    empty = [name for name in PROCEDURES if not any(m in shown[name].upper() for m in marks)]
    assert not empty, f"DBGate shows no body for {empty}: {shown[empty[0]][:200]!r}"


def test_application_user_reads_routine_bodies_without_ddl(lab):
    if pg(lab):  # pg_proc.prosrc is readable by every role (information_schema shows owners only)
        body = scalar(lab, "SELECT COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                           "WHERE n.nspname = current_schema() AND p.prosrc <> ''")  # fmt: skip
        assert int(body) >= len(PROCEDURES)
        return
    body = scalar(lab, "SELECT COUNT(*) FROM information_schema.ROUTINES "
                       "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_DEFINITION IS NOT NULL")  # fmt: skip
    assert int(body) >= len(PROCEDURES)


# --- Okta agents: defined only when the Docker lab runs them (their RPMs were in packages/), so a lab
# without them has nothing to skip ------------------------------------------------------------------


def _docker_lab_services() -> set[str]:
    state = Path(os.environ.get("LAB_ROOT", ".")) / ".lab" / "lab.json"
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return set()
    return set(data.get("services", [])) if os.environ.get("LAB_TARGET", "docker") == "docker" else set()


if "okta-scim" in _docker_lab_services():

    def test_okta_scim_status_answers_with_its_token(lab):
        result = lab.host("okta-scim").run("/usr/local/lib/okta-lab/healthcheck.sh")
        assert result.rc == 0, lab.logs("okta-scim")
        token = lab.data.read("okta-scim/conf/bearer-token") or ""
        assert len(token) == 32 and token not in lab.logs("okta-scim", lines=500)


if "okta-opp" in _docker_lab_services():

    def test_okta_opp_reports_its_registration_state(lab):
        result = lab.host("okta-opp").run("/usr/local/lib/okta-lab/healthcheck.sh")
        assert result.rc == 0 and result.stdout.strip() in ("waiting for registration", "running"), result.stdout
