"""The `db` images against a real MariaDB and a real PostgreSQL (every test runs on both engines):
seed, views, every procedure incl. its errors and injection strings, privileges, idempotent
re-apply, upgrade of a changed procedure without losing rows, and bad environment input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pymysql
import pytest

from lab.company import load_company
from lab.jdbc.container import DbContainer, build_image, write_sql
from lab.jdbc.sql import (
    ENGINES,
    EXTRA_USER_COLUMNS,
    PROCEDURES,
    RESULT_ROUTINES,
    SERVER_PROCEDURES,
    USER_COLUMNS,
    USER_PARAMS,
    VIEWS,
    call_syntax,
    classify_error,
    render_sql,
)
from lab.runner import Runner
from tests.conftest import require_docker

pytestmark = pytest.mark.docker

NULLS = [None] * 19  # parameters 6..24 of CREATE_USER / UPDATE_USER
READ_WIDTH = len(USER_COLUMNS) + len(EXTRA_USER_COLUMNS)  # the public lab's 25, then EXTERNALID


_engine_or_fail = require_docker


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def image(engine: str) -> str:
    _engine_or_fail()
    return build_image(Runner(), engine=engine)


def sql_for(engine: str) -> dict[str, str]:
    return render_sql(load_company("galaxy"), "galaxy.local", dialect=engine)


@pytest.fixture(scope="module")
def db(engine: str, image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbContainer]:
    root = tmp_path_factory.mktemp(f"jdbc-db-{engine}")
    write_sql(sql_for(engine), root / "sql")
    container = DbContainer(sql_dir=root / "sql", data_dir=root / "data", image=image, engine=engine)
    container.start()
    try:
        container.wait_healthy()
        yield container
    finally:
        container.remove()


class Cursor:
    """A DB-API cursor that knows its engine (PyMySQL or psycopg 3; both bind with %s)."""

    def __init__(self, raw: Any, engine: str) -> None:
        self.raw, self.engine = raw, engine

    def execute(self, query: str, args: Any = None) -> None:
        self.raw.execute(query, args)

    def fetchone(self) -> Any:
        return self.raw.fetchone()

    def fetchall(self) -> Any:
        return self.raw.fetchall()


def cursor_of(db: DbContainer) -> Cursor:
    return Cursor(db.connect().cursor(), db.engine)


@pytest.fixture
def cur(db: DbContainer) -> Iterator[Cursor]:
    conn = db.connect()
    try:
        yield Cursor(conn.cursor(), db.engine)
    finally:
        conn.close()


def _invoke(cur: Cursor, proc: str, args: tuple[object, ...]) -> None:
    if cur.engine == "postgresql":
        # as the Okta connector binds them: every value a string (JDBC setString)
        values = [None if a is None else str(a) for a in args]
        cur.raw.execute(call_syntax("postgresql", proc, len(args), "%s"), values)
    else:
        cur.raw.callproc(proc, args)


def call(cur: Cursor, proc: str, *args: object) -> list[tuple[object, ...]]:
    _invoke(cur, proc, args)
    if cur.engine == "postgresql" and proc not in RESULT_ROUTINES:
        return []
    return [tuple(r) for r in cur.fetchall()]


def one(cur: Cursor, query: str, *args: object) -> tuple[object, ...]:
    cur.execute(query, args)
    row = cur.fetchone()
    assert row is not None, query
    return tuple(row)


def signal(cur: Cursor, proc: str, *args: object) -> tuple[str, str]:
    if cur.engine == "postgresql":
        with pytest.raises(psycopg.Error) as pg_info:
            _invoke(cur, proc, args)
        assert pg_info.value.sqlstate == "45000", pg_info.value
        message = pg_info.value.diag.message_primary or ""
    else:
        with pytest.raises(pymysql.err.OperationalError) as info:
            _invoke(cur, proc, args)
        code, message = info.value.args
        assert code == 1644, message
    err = classify_error(message)
    assert err is not None, message
    return err.kind, err.detail


def counts(cur: Cursor) -> tuple[object, ...]:
    return one(
        cur,
        "SELECT (SELECT COUNT(*) FROM USERS), (SELECT COUNT(*) FROM ENTITLEMENTS),"
        " (SELECT COUNT(*) FROM USERENTITLEMENTS), (SELECT COUNT(*) FROM USERS WHERE IS_ACTIVE=1)",
    )


def new_user(uid: str, first: str = "Test", **columns: object) -> list[object]:
    """CREATE_USER arguments; `columns` by database field name, e.g. TITLE="Jedi"."""
    args: list[object] = [uid, uid, first, "User", uid, *NULLS]
    for column, value in columns.items():
        args[USER_PARAMS.index(column)] = value
    return args


# --- seed and structure ------------------------------------------------------------------------


def test_seed_counts_match_the_company(cur):
    assert counts(cur)[:3] == (15, 10, 82)


def test_user_ids_are_ldap_logins(cur):
    row = call(cur, "GET_USER_BY_ID", "luke.skywalker@galaxy.local")
    assert row and row[0][1] == "luke.skywalker@galaxy.local"
    assert len(row[0]) == READ_WIDTH
    assert call(cur, "GET_USER_BY_ID", "c-3po@galaxy.local")
    assert call(cur, "GET_USER_BY_ID", "LUKE.SKYWALKER@GALAXY.LOCAL") == []  # USER_ID is case-exact
    assert call(cur, "GET_USER_ENTITLEMENT", "Luke.Skywalker@galaxy.local") == []


def test_every_procedure_and_view_exists(cur):
    schema = "current_schema()" if cur.engine == "postgresql" else "DATABASE()"
    cur.execute(f"SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {schema}")
    assert set(PROCEDURES) | set(SERVER_PROCEDURES) <= {r[0].upper() for r in cur.fetchall()}
    cur.execute(f"SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {schema}")
    assert set(VIEWS) == {r[0].upper() for r in cur.fetchall()}


def test_result_columns_are_the_same_on_both_engines(cur):
    """Okta maps result columns by name: the PostgreSQL functions return the MariaDB names."""
    _invoke(cur, "GET_USER_BY_ID", ("luke.skywalker@galaxy.local",))
    assert tuple(d[0] for d in cur.raw.description) == USER_COLUMNS + EXTRA_USER_COLUMNS
    cur.fetchall()
    _invoke(cur, "GET_USER_ENTITLEMENT", ("luke.skywalker@galaxy.local",))
    assert [d[0] for d in cur.raw.description] == [
        "USERENTITLEMENT_ID", "USER_ID", "USERNAME", "EMAIL", "ENT_ID", "ENT_NAME", "ENT_DESCRIPTION",
        "ASSIGNEDDATE"]  # fmt: skip
    cur.fetchall()


def test_views_resolve_managers(cur):
    assert one(cur, "SELECT MANAGER_NAME, MANAGER_EMAIL FROM V_ACTIVE_USERS WHERE USER_ID = %s",
               "luke.skywalker@galaxy.local") == ("Obi-Wan Kenobi", "obiwan.kenobi@galaxy.local")  # fmt: skip
    cur.execute("SELECT COUNT(*) FROM V_USER_HIERARCHY WHERE MANAGERID IS NOT NULL AND MANAGER_NAME IS NULL")
    assert cur.fetchone() == (0,)
    assert one(cur, "SELECT USER_COUNT FROM V_ENTITLEMENT_USAGE WHERE ENT_ID = 7") == (4,)


def test_application_user_cannot_change_the_schema(cur):
    drop = "DROP FUNCTION GET_ACTIVEUSERS" if cur.engine == "postgresql" else "DROP PROCEDURE GET_ACTIVEUSERS"
    for ddl in ("CREATE TABLE T_NOPE (A INT)", "DROP TABLE USERENTITLEMENTS",
                "ALTER TABLE USERS ADD COLUMN X INT", drop):  # fmt: skip
        if cur.engine == "postgresql":
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                cur.execute(ddl)
            continue
        with pytest.raises(pymysql.err.OperationalError) as info:
            cur.execute(ddl)
        assert info.value.args[0] in (1142, 1370), info.value.args


# --- procedures --------------------------------------------------------------------------------


def test_get_procedures_return_rows_and_empty_sets(cur):
    active = call(cur, "GET_ACTIVEUSERS")
    assert len(active) >= 15 and all(len(r) == READ_WIDTH for r in active)
    everyone = call(cur, "GET_ALL_USERS")
    assert len(everyone) >= len(active) and all(len(r) == READ_WIDTH for r in everyone)
    assert [r[0] for r in call(cur, "GET_ALL_ENTITLEMENTS")] == list(range(1, 11))
    ents = call(cur, "GET_USER_ENTITLEMENT", "luke.skywalker@galaxy.local")
    assert sorted(r[4] for r in ents) == [1, 2, 3, 6, 7, 9]
    assert call(cur, "GET_USER_BY_ID", "nobody@galaxy.local") == []
    assert call(cur, "GET_USER_ENTITLEMENT", "nobody@galaxy.local") == []


def test_create_then_update_keeps_columns_passed_as_null(cur):
    uid = "finn.fn2187@galaxy.local"
    call(cur, "CREATE_USER", *new_user(uid, "Finn", ORGANIZATION="Resistance", MANAGERID="leia.organa@galaxy.local"))
    row = call(cur, "GET_USER_BY_ID", uid)[0]
    assert row[15] == "Resistance" and row[18] == "Princess Leia" and row[24] == 1
    call(cur, "UPDATE_USER", uid, *([None] * 18), "Stormtrooper", None, None, None, None)
    row = call(cur, "GET_USER_BY_ID", uid)[0]
    assert (row[2], row[15], row[19]) == ("Finn", "Resistance", "Stormtrooper")


def test_deactivate_records_termination_and_create_reactivates(cur):
    uid = "rey@galaxy.local"
    call(cur, "CREATE_USER", *new_user(uid, "Rey"))
    call(cur, "DEACTIVATE_USER", uid)
    active, ended = one(cur, "SELECT IS_ACTIVE, TERMINATIONDATE FROM USERS WHERE USER_ID=%s", uid)
    assert active == 0 and ended is not None
    assert call(cur, "GET_USER_BY_ID", uid)  # still found while inactive
    assert uid not in [r[0] for r in call(cur, "GET_ACTIVEUSERS")]
    call(cur, "CREATE_USER", *new_user(uid, "Rey", TITLE="Jedi"))
    assert one(cur, "SELECT IS_ACTIVE, TERMINATIONDATE, TITLE FROM USERS WHERE USER_ID=%s", uid) == (
        1, None, "Jedi")  # fmt: skip
    call(cur, "DEACTIVATE_USER", uid)
    call(cur, "ACTIVATE_USER", uid)
    assert one(cur, "SELECT IS_ACTIVE, TERMINATIONDATE FROM USERS WHERE USER_ID=%s", uid) == (1, None)


def test_entitlement_add_is_idempotent_and_remove_works(cur):
    uid = "yoda@galaxy.local"
    before = len(call(cur, "GET_USER_ENTITLEMENT", uid))
    call(cur, "ADD_ENTITLEMENT_TO_USER", uid, 2)
    call(cur, "ADD_ENTITLEMENT_TO_USER", uid, 2)  # already has it: no-op, no error
    assert len(call(cur, "GET_USER_ENTITLEMENT", uid)) == before + 1
    call(cur, "REMOVE_ENTITLEMENT_FROM_USER", uid, 2)
    call(cur, "REMOVE_ENTITLEMENT_FROM_USER", uid, 2)  # not assigned any more: no-op
    assert len(call(cur, "GET_USER_ENTITLEMENT", uid)) == before


INJECTIONS = [
    "o'brien@galaxy.local",
    "x'); DROP TABLE USERS; --@galaxy.local",
    'quote"and\\backslash@galaxy.local',
    "1 OR 1=1; DELETE FROM USERENTITLEMENTS",
    "$$; DROP TABLE ENTITLEMENTS; $$",
]


@pytest.mark.parametrize("uid", INJECTIONS)
def test_injection_strings_are_stored_verbatim(cur, uid):
    before = counts(cur)
    call(cur, "CREATE_USER", *new_user(uid, uid, TITLE=uid))
    row = call(cur, "GET_USER_BY_ID", uid)
    assert row and (row[0][0], row[0][2], row[0][19]) == (uid, uid, uid)
    call(cur, "ADD_ENTITLEMENT_TO_USER", uid, 1)
    assert [r[1] for r in call(cur, "GET_USER_ENTITLEMENT", uid)] == [uid]
    kind, detail = signal(cur, "ACTIVATE_USER", uid + "'--")
    assert (kind, detail) == ("unknown_user", uid + "'--")
    call(cur, "REMOVE_ENTITLEMENT_FROM_USER", uid, 1)
    after = counts(cur)
    assert after[0] == before[0] + 1 and after[1:3] == before[1:3]


@pytest.mark.parametrize(
    ("proc", "args", "kind"),
    [
        ("ACTIVATE_USER", ("ghost@galaxy.local",), "unknown_user"),
        ("DEACTIVATE_USER", ("ghost@galaxy.local",), "unknown_user"),
        ("UPDATE_USER", ("ghost@galaxy.local", *([None] * 23)), "unknown_user"),
        ("ADD_ENTITLEMENT_TO_USER", ("ghost@galaxy.local", 1), "unknown_user"),
        ("REMOVE_ENTITLEMENT_FROM_USER", ("ghost@galaxy.local", 1), "unknown_user"),
        ("ADD_ENTITLEMENT_TO_USER", ("han.solo@galaxy.local", 99), "unknown_entitlement"),
        ("REMOVE_ENTITLEMENT_FROM_USER", ("han.solo@galaxy.local", 99), "unknown_entitlement"),
        ("CREATE_USER", tuple(new_user("han.solo@galaxy.local")), "duplicate_user"),
        (
            "CREATE_USER",
            ("x@galaxy.local", "han.solo@galaxy.local", "X", "Y", "x@galaxy.local", *NULLS),
            "duplicate_user",
        ),  # fmt: skip
        ("UPDATE_USER", ("han.solo@galaxy.local", "yoda@galaxy.local", *([None] * 22)), "duplicate_user"),  # fmt: skip
        (
            "CREATE_USER",
            ("x@galaxy.local", "x@galaxy.local", None, "Y", "x@galaxy.local", *NULLS),
            "missing_field",
        ),  # fmt: skip
        (
            "CREATE_USER",
            ("x@galaxy.local", "x@galaxy.local", "X", " ", "x@galaxy.local", *NULLS),
            "missing_field",
        ),  # fmt: skip
        ("CREATE_USER", ("", "x@galaxy.local", "X", "Y", "x@galaxy.local", *NULLS), "missing_field"),
        ("CREATE_USER", ("x@galaxy.local", "x@galaxy.local", "X", "Y", None, *NULLS), "missing_field"),
        ("UPDATE_USER", ("han.solo@galaxy.local", None, "", *([None] * 21)), "missing_field"),
        ("ACTIVATE_USER", (None,), "missing_field"),
    ],
)
def test_bad_calls_signal_a_clear_error_and_change_nothing(cur, proc, args, kind):
    before = counts(cur)
    snapshot = call(cur, "GET_USER_BY_ID", "han.solo@galaxy.local")
    got, detail = signal(cur, proc, *args)
    assert got == kind, detail
    assert counts(cur) == before
    assert call(cur, "GET_USER_BY_ID", "han.solo@galaxy.local") == snapshot


# --- re-apply, restart, upgrade ----------------------------------------------------------------


def test_reapply_is_idempotent_and_keeps_rows(db, cur):
    before = counts(cur)
    out = db.exec("lab-db-apply", "--seed")
    assert "seed skipped" in out
    db.exec("lab-db-apply")
    assert counts(cur) == before


def test_restart_keeps_data_and_does_not_reseed(db):
    conn = db.connect()
    before = counts(Cursor(conn.cursor(), db.engine))
    conn.close()
    db.restart()
    db.wait_healthy()
    conn = db.connect()
    assert counts(Cursor(conn.cursor(), db.engine)) == before
    conn.close()
    assert db.logs().count("sample data loaded") == 1


def test_changed_procedure_upgrades_a_running_database(db):
    conn = db.connect()
    cur = Cursor(conn.cursor(), db.engine)
    before = counts(cur)
    path = db.sql_dir / "procedures.sql"
    original = path.read_text()
    marker = "SELECT ENT_ID, ENT_NAME, ENT_DESCRIPTION FROM ENTITLEMENTS ORDER BY ENT_ID;"
    assert marker in original
    changed = original.replace(marker, marker.replace("ENT_DESCRIPTION", "ENT_DESCRIPTION, 'v2' AS LAB_VERSION"))
    if db.engine == "postgresql":  # a function's result columns are declared: one more there too
        returns = '"ENT_DESCRIPTION" VARCHAR)'
        assert returns in changed
        changed = changed.replace(returns, '"ENT_DESCRIPTION" VARCHAR, "LAB_VERSION" VARCHAR)', 1)
    try:
        path.write_text(changed)
        db.exec("lab-healthcheck")  # the healthcheck re-applies changed SQL (as `lab up` relies on)
        rows = call(cur, "GET_ALL_ENTITLEMENTS")
        assert len(rows[0]) == 4 and rows[0][3] == "v2"
        assert counts(cur) == before
    finally:
        path.write_text(original)
        db.exec("lab-healthcheck")
    assert len(call(cur, "GET_ALL_ENTITLEMENTS")[0]) == 3
    conn.close()


def test_reapply_widens_old_narrow_columns_in_place(db):
    """A database made with the public lab's widths (ZIPCODE 20, COUNTRYCODE 10, ...) is widened by
    re-applying the SQL; rows are kept and a second re-apply changes nothing."""
    old = {"MOBILEPHONE": 50, "ZIPCODE": 20, "COUNTRYCODE": 10, "EMPLOYEENUMBER": 50}
    pg = db.engine == "postgresql"
    if pg:  # the views depend on the columns; lab-db-apply re-creates them
        narrow = "DROP VIEW V_ACTIVE_USERS, V_INACTIVE_USERS; ALTER TABLE USERS " + ", ".join(
            f"ALTER COLUMN {c} TYPE VARCHAR({n})" for c, n in old.items())  # fmt: skip
    else:
        narrow = "ALTER TABLE USERS " + ", ".join(f"MODIFY COLUMN {c} VARCHAR({n}) NULL" for c, n in old.items())

    def widths() -> dict[str, int]:
        conn = db.connect()
        rows = conn.cursor()
        if pg:
            rows.execute(
                "SELECT upper(COLUMN_NAME), CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = current_schema() AND TABLE_NAME = 'users' AND upper(COLUMN_NAME) = ANY(%s)",
                (list(old),),
            )
        else:
            rows.execute(
                "SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'USERS' AND COLUMN_NAME IN %s",
                (tuple(old),),
            )
        out = {name: int(size) for name, size in rows.fetchall()}
        conn.close()
        return out

    conn = db.connect()
    before = counts(Cursor(conn.cursor(), db.engine))
    db.admin_sql(narrow)
    assert widths() == old
    db.exec("lab-db-apply")
    assert widths() == dict.fromkeys(old, 100)
    db.exec("lab-db-apply")  # idempotent: already wide
    assert widths() == dict.fromkeys(old, 100)
    assert counts(Cursor(conn.cursor(), db.engine)) == before
    zip36 = "x" * 36  # scim2-tester's random postal codes and countries are UUIDs
    call(Cursor(conn.cursor(), db.engine), "CREATE_USER", *new_user("wide.zip", ZIPCODE=zip36, COUNTRYCODE=zip36))
    assert one(Cursor(conn.cursor(), db.engine), "SELECT ZIPCODE FROM USERS WHERE USER_ID = 'wide.zip'") == (zip36,)
    conn.close()


# --- bad environment input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"password": "short"}, "MARIADB_PASSWORD is too short"),
        ({"database": "bad-name;DROP"}, "is not a valid database name"),
        ({"user": "1user"}, "is not a valid user name"),
    ],
)
def test_bad_environment_fails_before_touching_data(engine, image, tmp_path, override, message):
    if engine == "postgresql":
        message = message.replace("MARIADB_", "POSTGRES_")
    write_sql(sql_for(engine), tmp_path / "sql")
    container = DbContainer(
        sql_dir=tmp_path / "sql", data_dir=tmp_path / "data", image=image, engine=engine, **override
    )
    container.start()
    try:
        assert container.wait_exit() == 2
        assert message in container.logs()
        assert list((tmp_path / "data").iterdir()) == []
        assert container.password not in container.logs() or override.get("password")
    finally:
        container.remove()


def test_broken_sql_fails_the_start_with_the_error(engine, image, tmp_path):
    files = sql_for(engine)
    files["views"] += "\nCREATE OR REPLACE VIEW V_BROKEN AS SELECT NO_SUCH_COLUMN FROM USERS;\n"
    write_sql(files, tmp_path / "sql")
    container = DbContainer(sql_dir=tmp_path / "sql", data_dir=tmp_path / "data", image=image, engine=engine)
    container.start()
    try:
        assert container.wait_exit(timeout=120) == 1
        logs = container.logs()
        assert "NO_SUCH_COLUMN" in logs and "applying the lab SQL failed" in logs
    finally:
        container.remove()
