"""Which MySQL driver the SCIM server's pool uses (SCIM_DB_DRIVER), and that both map errors and
name the failing operation of a batch the same way."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import pymysql
import pytest

from lab.errors import ConfigError
from lab.scim.db import Database, map_db_error
from lab.scim.driver import select_driver
from lab.scim.errors import ScimError
from lab.scim.operations import load_operations
from lab.scim.server import config_from_environ


def _have_mysqlclient() -> bool:
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return False
    return True


#: with CI set, a missing mysqlclient fails these tests instead of skipping them
NEEDS_MYSQLCLIENT = pytest.mark.skipif(
    not _have_mysqlclient() and not os.environ.get("CI"), reason="mysqlclient is not installed (the scim-c extra)"
)


def test_pymysql_is_chosen_by_name() -> None:
    driver = select_driver("pymysql")
    assert driver.name == "pymysql" and driver.Error is pymysql.err.MySQLError


def test_auto_falls_back_to_pymysql_without_mysqlclient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # import MySQLdb -> ImportError
    assert select_driver("auto").name == "pymysql"
    assert select_driver(None).name == "pymysql"
    assert select_driver("").name == "pymysql"


def test_naming_mysqlclient_when_it_is_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    with pytest.raises(ConfigError) as info:
        select_driver("mysqlclient")
    assert "SCIM_DB_DRIVER=mysqlclient" in str(info.value.problems[0]) and "scim-c" in info.value.problems[0].hint


def test_an_unknown_driver_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        select_driver("oracle")
    assert "auto, mysqlclient, pymysql" in info.value.problems[0].hint


def test_the_environment_names_the_driver(tmp_path: Any) -> None:
    env = {"MARIADB_PASSWORD": "x" * 16, "SCIM_DATA_DIR": str(tmp_path), "SCIM_TLS": "0"}
    config, _ = config_from_environ({**env, "SCIM_DB_DRIVER": "pymysql"})
    assert config.driver == "pymysql"
    with pytest.raises(ConfigError) as info:
        config_from_environ({**env, "SCIM_DB_DRIVER": "nope"})
    assert any("SCIM_DB_DRIVER" in p.what for p in info.value.problems)


@NEEDS_MYSQLCLIENT
def test_auto_prefers_mysqlclient_when_installed() -> None:
    import MySQLdb

    driver = select_driver("auto")
    assert driver.name == "mysqlclient" and driver.Error is MySQLdb.MySQLError
    assert select_driver("mysqlclient").name == "mysqlclient"


@NEEDS_MYSQLCLIENT
@pytest.mark.parametrize(
    ("code", "message", "status"),
    [
        (1644, "unknown user: x", 404),
        (1644, "duplicate user: x", 409),
        (1062, "Duplicate entry", 409),
        (2006, "gone", 503),
    ],
)
def test_both_drivers_errors_map_alike(code: int, message: str, status: int) -> None:
    import MySQLdb

    op = load_operations()["create_user"]
    for exc in (MySQLdb.OperationalError(code, message), pymysql.err.OperationalError(code, message)):
        assert map_db_error(op, exc).status == status


class _FailingPool:
    """A pool whose batch fails at statement `index` (as lab.scim.db.Pool marks it)."""

    def __init__(self, index: int) -> None:
        self.driver = select_driver("pymysql")
        self.index = index
        self.batches: list[Sequence[tuple[str, Sequence[Any]]]] = []

    def run_batch(self, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        self.batches.append(items)
        exc = pymysql.err.ProgrammingError(1305, "PROCEDURE oktademo.ADD_ENTITLEMENT_TO_USER does not exist")
        exc.lab_index = self.index  # type: ignore[attr-defined]
        raise exc


def test_a_batch_error_names_the_operation_that_failed() -> None:
    pool = _FailingPool(index=1)
    db = Database(pool, load_operations())  # type: ignore[arg-type]
    with pytest.raises(ScimError) as info:
        db.call_many([("create_user", {"USER_ID": "u"}), ("add_entitlement", {"USER_ID": "u", "ENT_ID": 1})])
    assert info.value.status == 500 and "add_entitlement" in info.value.detail
    assert len(pool.batches) == 1 and len(pool.batches[0]) == 2  # one round trip


def test_a_write_drops_the_user_lists_but_keeps_the_entitlements() -> None:
    class Counting:
        driver = select_driver("pymysql")

        def __init__(self) -> None:
            self.statements: list[str] = []

        def run_batch(self, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
            self.statements += [s for s, _ in items]
            return [[] for _ in items]

    pool = Counting()
    db = Database(pool, load_operations())  # type: ignore[arg-type]
    for name in ("get_users", "get_all_entitlements", "get_users", "get_all_entitlements"):
        db.call(name, {})
    assert len(pool.statements) == 2  # both cached
    db.call("deactivate_user", {"USER_ID": "u"})
    db.call("get_all_entitlements", {})
    db.call("get_users", {})
    assert len(pool.statements) == 4  # the write, then "get users" again; the entitlements stayed
