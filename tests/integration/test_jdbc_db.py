"""The `db` image against a real MariaDB: seed, views, every procedure incl. its errors, privileges,
idempotent re-apply, upgrade of a changed procedure without losing rows, and bad environment input.
"""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest

from lab.company import load_company
from lab.jdbc.container import DbContainer, build_image, write_sql
from lab.jdbc.sql import (
    EXTRA_USER_COLUMNS,
    PROCEDURES,
    SERVER_PROCEDURES,
    USER_COLUMNS,
    USER_PARAMS,
    VIEWS,
    classify_error,
    render_sql,
)
from lab.runner import Runner
from tests.conftest import require_docker

pytestmark = pytest.mark.docker

NULLS = [None] * 19  # parameters 6..24 of CREATE_USER / UPDATE_USER
READ_WIDTH = len(USER_COLUMNS) + len(EXTRA_USER_COLUMNS)  # the public lab's 25, then EXTERNALID


_engine_or_fail = require_docker


@pytest.fixture(scope="module")
def image() -> str:
    _engine_or_fail()
    return build_image(Runner())


@pytest.fixture(scope="module")
def db(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbContainer]:
    root = tmp_path_factory.mktemp("jdbc-db")
    write_sql(render_sql(load_company("galaxy"), "galaxy.local"), root / "sql")
    container = DbContainer(sql_dir=root / "sql", data_dir=root / "data", image=image)
    container.start()
    try:
        container.wait_healthy()
        yield container
    finally:
        container.remove()


@pytest.fixture
def cur(db: DbContainer) -> Iterator[pymysql.cursors.Cursor]:
    conn = db.connect()
    try:
        yield conn.cursor()
    finally:
        conn.close()


def call(cur: pymysql.cursors.Cursor, proc: str, *args: object) -> list[tuple[object, ...]]:
    cur.callproc(proc, args)
    return list(cur.fetchall())


def one(cur: pymysql.cursors.Cursor, query: str, *args: object) -> tuple[object, ...]:
    cur.execute(query, args)
    row = cur.fetchone()
    assert row is not None, query
    return tuple(row)


def signal(cur: pymysql.cursors.Cursor, proc: str, *args: object) -> tuple[str, str]:
    with pytest.raises(pymysql.err.OperationalError) as info:
        cur.callproc(proc, args)
    code, message = info.value.args
    assert code == 1644, message
    err = classify_error(message)
    assert err is not None, message
    return err.kind, err.detail


def counts(cur: pymysql.cursors.Cursor) -> tuple[object, ...]:
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
    cur.execute("SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()")
    assert set(PROCEDURES) | set(SERVER_PROCEDURES) <= {r[0] for r in cur.fetchall()}
    cur.execute("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()")
    assert set(VIEWS) == {r[0] for r in cur.fetchall()}


def test_views_resolve_managers(cur):
    assert one(cur, "SELECT MANAGER_NAME, MANAGER_EMAIL FROM V_ACTIVE_USERS WHERE USER_ID = %s",
               "luke.skywalker@galaxy.local") == ("Obi-Wan Kenobi", "obiwan.kenobi@galaxy.local")  # fmt: skip
    cur.execute("SELECT COUNT(*) FROM V_USER_HIERARCHY WHERE MANAGERID IS NOT NULL AND MANAGER_NAME IS NULL")
    assert cur.fetchone() == (0,)
    assert one(cur, "SELECT USER_COUNT FROM V_ENTITLEMENT_USAGE WHERE ENT_ID = 7") == (4,)


def test_application_user_cannot_change_the_schema(cur):
    for ddl in ("CREATE TABLE T_NOPE (A INT)", "DROP TABLE USERENTITLEMENTS",
                "ALTER TABLE USERS ADD COLUMN X INT", "DROP PROCEDURE GET_ACTIVEUSERS"):  # fmt: skip
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
    before = counts(conn.cursor())
    conn.close()
    db.restart()
    db.wait_healthy()
    conn = db.connect()
    assert counts(conn.cursor()) == before
    conn.close()
    assert db.logs().count("sample data loaded") == 1


def test_changed_procedure_upgrades_a_running_database(db):
    conn = db.connect()
    cur = conn.cursor()
    before = counts(cur)
    path = db.sql_dir / "procedures.sql"
    original = path.read_text()
    marker = "SELECT ENT_ID, ENT_NAME, ENT_DESCRIPTION FROM ENTITLEMENTS ORDER BY ENT_ID;"
    assert marker in original
    try:
        path.write_text(
            original.replace(marker, marker.replace("ENT_DESCRIPTION", "ENT_DESCRIPTION, 'v2' AS LAB_VERSION"))
        )
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
    narrow = ", ".join(f"MODIFY COLUMN {c} VARCHAR({n}) NULL" for c, n in old.items())
    sql = "mariadb", "--protocol=socket", "-uroot", db.database, "-e"

    def widths() -> dict[str, int]:
        conn = db.connect()
        rows = conn.cursor()
        rows.execute(
            "SELECT COLUMN_NAME, CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'USERS' AND COLUMN_NAME IN %s",
            (tuple(old),),
        )
        out = {name: int(size) for name, size in rows.fetchall()}
        conn.close()
        return out

    conn = db.connect()
    before = counts(conn.cursor())
    db.exec(*sql, f"ALTER TABLE USERS {narrow}")
    assert widths() == old
    db.exec("lab-db-apply")
    assert widths() == dict.fromkeys(old, 100)
    db.exec("lab-db-apply")  # idempotent: already wide
    assert widths() == dict.fromkeys(old, 100)
    assert counts(conn.cursor()) == before
    zip36 = "x" * 36  # scim2-tester's random postal codes and countries are UUIDs
    call(conn.cursor(), "CREATE_USER", *new_user("wide.zip", ZIPCODE=zip36, COUNTRYCODE=zip36))
    assert one(conn.cursor(), "SELECT ZIPCODE FROM USERS WHERE USER_ID = 'wide.zip'") == (zip36,)
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
def test_bad_environment_fails_before_touching_data(image, tmp_path, override, message):
    write_sql(render_sql(load_company("galaxy"), "galaxy.local"), tmp_path / "sql")
    container = DbContainer(sql_dir=tmp_path / "sql", data_dir=tmp_path / "data", image=image, **override)
    container.start()
    try:
        assert container.wait_exit() == 2
        assert message in container.logs()
        assert list((tmp_path / "data").iterdir()) == []
        assert container.password not in container.logs() or override.get("password")
    finally:
        container.remove()


def test_broken_sql_fails_the_start_with_the_error(image, tmp_path):
    files = render_sql(load_company("galaxy"), "galaxy.local")
    files["views"] += "\nCREATE OR REPLACE VIEW V_BROKEN AS SELECT NO_SUCH_COLUMN FROM USERS;\n"
    write_sql(files, tmp_path / "sql")
    container = DbContainer(sql_dir=tmp_path / "sql", data_dir=tmp_path / "data", image=image)
    container.start()
    try:
        assert container.wait_exit(timeout=120) == 1
        logs = container.logs()
        assert "NO_SUCH_COLUMN" in logs and "applying the lab SQL failed" in logs
    finally:
        container.remove()
