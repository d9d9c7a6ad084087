"""The MySQL driver under the server's pool: mysqlclient (C, libmariadb) when installed, else PyMySQL.

Both are DB-API drivers with the same `%s` parameter style, the same error codes in
`exc.args[0]` (and the message in `args[1]`), dict cursors, multi-statement round trips and
`cursor.mogrify`; this module hides the few differences (how to connect, ping, which exception
classes), so that lab.scim.db binds, batches and maps errors the same way over either.

`SCIM_DB_DRIVER` chooses: `auto` (default: mysqlclient if it imports, PyMySQL otherwise),
`mysqlclient` or `pymysql`. mysqlclient has no binary wheels on PyPI: it needs libmariadb (or
libmysqlclient) headers, pkg-config and a C compiler to install (the `scim-c` extra), so PyMySQL
(pure Python, in the `scim` extra) is always there as the fallback. Measured in
benchmarks/scim_bench.py: see docs/scim.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lab.errors import ConfigError, Problem

CHOICES = ("auto", "mysqlclient", "pymysql")
READ_TIMEOUT = 30


@dataclass(frozen=True)
class Driver:
    """One driver's entry points; `Error` is the base class of everything it raises."""

    name: str
    module: Any
    cursorclass: Any
    multi_statements: int
    Error: type[Exception]
    OperationalError: type[Exception]
    InterfaceError: type[Exception]
    ProgrammingError: type[Exception]

    def connect(self, *, host: str, port: int, user: str, password: str, database: str, connect_timeout: float) -> Any:
        """An autocommit connection with multi-statement round trips (as allowMultiQueries=true)."""
        return self.module.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=database,
            autocommit=True,
            charset="utf8mb4",
            client_flag=self.multi_statements,
            # mysqlclient takes whole seconds (libmariadb's option is an unsigned int)
            connect_timeout=max(1, round(connect_timeout)) if self.name == "mysqlclient" else connect_timeout,
            read_timeout=READ_TIMEOUT,
            write_timeout=READ_TIMEOUT,
            cursorclass=self.cursorclass,
        )

    def ping(self, conn: Any) -> None:
        """Raise a driver error when `conn` is no longer usable (never reconnects by itself)."""
        if self.name == "pymysql":
            conn.ping(reconnect=False)
        else:
            conn.ping()

    def mogrify(self, cursor: Any, statement: str, args: Sequence[Any]) -> str:
        """`statement` with every `%s` replaced by the driver's escaped literal of its value."""
        text = cursor.mogrify(statement, tuple(args))
        return text.decode() if isinstance(text, bytes) else str(text)


def _pymysql() -> Driver:
    pymysql = importlib.import_module("pymysql")
    cursors = importlib.import_module("pymysql.cursors")
    client = importlib.import_module("pymysql.constants.CLIENT")
    return Driver(
        name="pymysql",
        module=pymysql,
        cursorclass=cursors.DictCursor,
        multi_statements=client.MULTI_STATEMENTS,
        Error=pymysql.err.MySQLError,
        OperationalError=pymysql.err.OperationalError,
        InterfaceError=pymysql.err.InterfaceError,
        ProgrammingError=pymysql.err.ProgrammingError,
    )


def _mysqlclient() -> Driver:
    mysqldb = importlib.import_module("MySQLdb")
    cursors = importlib.import_module("MySQLdb.cursors")
    client = importlib.import_module("MySQLdb.constants.CLIENT")
    return Driver(
        name="mysqlclient",
        module=mysqldb,
        cursorclass=cursors.DictCursor,
        # MULTI_RESULTS too: a CALL answers with more than one result
        multi_statements=client.MULTI_STATEMENTS | client.MULTI_RESULTS,
        Error=mysqldb.MySQLError,
        OperationalError=mysqldb.OperationalError,
        InterfaceError=mysqldb.InterfaceError,
        ProgrammingError=mysqldb.ProgrammingError,
    )


def select_driver(choice: str | None = None) -> Driver:
    """The driver for `choice` (`SCIM_DB_DRIVER`; None or "" means auto).

    `auto` prefers mysqlclient and falls back to PyMySQL when mysqlclient is not installed (or its
    C library does not load). Naming a driver that cannot be imported is a ConfigError.
    """
    value = (choice or "auto").strip().lower()
    if value not in CHOICES:
        raise ConfigError(Problem(f"SCIM_DB_DRIVER={choice!r} is not a driver", f"use one of: {', '.join(CHOICES)}"))
    if value == "pymysql":
        return _pymysql()
    try:
        return _mysqlclient()
    except ImportError as exc:
        if value == "mysqlclient":
            raise ConfigError(
                Problem(
                    f"SCIM_DB_DRIVER=mysqlclient but it does not import ({exc})",
                    "install the scim-c extra (needs libmariadb-dev, pkg-config, a C compiler) or use auto",
                )
            ) from None
        return _pymysql()
