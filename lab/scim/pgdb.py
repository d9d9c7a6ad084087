"""PostgreSQL behind the same interface as `lab.scim.db` (psycopg 3): a pool, a `Database` whose
errors map SQLSTATEs to the same SCIM statuses as the MariaDB error numbers, and JDBC URLs.

Kept apart from `lab.scim.db` so the MariaDB path stays as it is. Rows come back as dicts keyed by
upper-case column names: the lab's routines return the MariaDB names ("USER_ID"), and the plain
SQL forms and lookups (`SELECT USER_ID FROM USERS`), which PostgreSQL answers in lower case, are
upper-cased to match. Values are bound as strings (as the Okta connector's setString does), so
the VARCHAR routine parameters resolve on PostgreSQL exactly as they do for the connector.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from lab.scim.db import Database, DatabaseUnavailable, DbTarget, parse_jdbc_url
from lab.scim.driver import Driver
from lab.scim.errors import ScimError, bad_request, conflict, not_found
from lab.scim.operations import Lookup, Operation, OperationMap

_JDBC = re.compile(r"^jdbc:postgresql://", re.IGNORECASE)
_IDLE_PING_SECONDS = 30.0
#: SQLSTATE classes/codes meaning "the database is not reachable now".
_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53300", "28P01", "28000", "3D000")
#: SQLSTATEs of an operation map that does not fit the database (MariaDB 1305, 1146, 1054, ...).
_MISCONFIGURED = {"42883", "42P01", "42703", "42601", "42501", "42804", "42P18", "42725", "42702"}


def is_postgresql_url(url: object) -> bool:
    return isinstance(url, str) and bool(_JDBC.match(url))


def target_from_jdbc(url: str, user: str, password: str) -> DbTarget:
    """Parse `jdbc:postgresql://host:5432/db` (user/password may also be URL parameters)."""
    return DbTarget(*parse_jdbc_url(url, user, password, default_port=5432, name_max=63))


def _bind(value: Any) -> Any:
    """A value as the connector binds it: a string (None stays NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def upper_dict_row(cursor: Any) -> Any:
    desc = cursor.description
    if desc is None:
        return lambda values: {}
    names = [c.name.upper() for c in desc]
    return lambda values: dict(zip(names, values, strict=True))


class PgPool:
    """A bounded pool of autocommit psycopg connections to one target (`lab.scim.db.Pool`'s API)."""

    def __init__(self, target: DbTarget, size: int = 8, connect_timeout: float = 5.0) -> None:
        self.target = target
        self.size = size
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[tuple[psycopg.Connection[Any], float]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def connect(self) -> psycopg.Connection[Any]:
        t = self.target
        return psycopg.connect(
            host=t.host,
            port=t.port,
            user=t.user,
            password=t.password,
            dbname=t.database,
            autocommit=True,
            connect_timeout=max(1, int(self.connect_timeout)),
            application_name="okta-lab-scim",
            options="-c statement_timeout=30000",
            row_factory=upper_dict_row,
        )

    def run(self, statement: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        return self.run_batch([(statement, args)])[0]

    def run_batch(self, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        """Execute statements on one connection, in order; the rows of each. A lost connection
        (database restart) is dropped and the batch retried once on a new one."""
        if not self._slots.acquire(timeout=30):
            raise DatabaseUnavailable("too many concurrent database calls; try again")
        try:
            for attempt in (1, 2):
                try:
                    conn = self._checkout()
                except psycopg.OperationalError:
                    if attempt == 1:
                        continue
                    raise
                try:
                    results = _execute(conn, items)
                except psycopg.OperationalError:
                    broken = conn.broken or conn.closed
                    _close(conn)
                    if broken and attempt == 1:
                        continue
                    raise
                except psycopg.Error:
                    if conn.broken or conn.closed:
                        _close(conn)
                    else:
                        self._idle.put((conn, time.monotonic()))
                    raise
                self._idle.put((conn, time.monotonic()))
                return results
            raise DatabaseUnavailable()
        finally:
            self._slots.release()

    def _checkout(self) -> psycopg.Connection[Any]:
        while True:
            try:
                conn, since = self._idle.get_nowait()
            except queue.Empty:
                return self.connect()
            if conn.closed or conn.broken:
                _close(conn)
                continue
            if time.monotonic() - since > _IDLE_PING_SECONDS:
                try:
                    conn.execute("SELECT 1")
                except psycopg.Error:
                    _close(conn)
                    continue
            return conn

    def close(self) -> None:
        while True:
            try:
                conn, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            _close(conn)


class PgDatabase(Database):
    """`lab.scim.db.Database` on PostgreSQL: the operation map in PostgreSQL call syntax,
    PostgreSQL SQL for filters, and psycopg errors mapped like MariaDB's."""

    def __init__(self, pool: PgPool, operations: OperationMap, list_cache_seconds: float = 5.0) -> None:
        super().__init__(pool, operations.for_engine("postgresql"), list_cache_seconds, dialect="postgresql")  # type: ignore[arg-type]

    def driver_errors(self) -> type[BaseException]:
        return psycopg.Error

    def map_error(self, op: Operation | Lookup, exc: BaseException) -> ScimError:
        assert isinstance(exc, psycopg.Error)
        return map_pg_error(op, exc)


def make_database(
    engine: str, target: DbTarget, pool_size: int, operations: OperationMap, driver: Driver | None = None
) -> Database:
    """A `Database` for `engine` ("mariadb" or "postgresql") on a new pool to `target`; `driver`
    is the MySQL driver for MariaDB (`lab.scim.driver`), unused for PostgreSQL."""
    if engine == "postgresql":
        return PgDatabase(PgPool(target, pool_size), operations)
    from lab.scim.db import Pool

    return Database(Pool(target, pool_size, driver=driver), operations)


def map_pg_error(op: Operation | Lookup, exc: psycopg.Error) -> ScimError:
    """The SCIM error for a psycopg error: the statuses `lab.scim.db.map_db_error` gives the
    matching MariaDB errors (RAISE '45000' as SIGNAL 1644, 23505 as 1062, 23503 as 1452, ...)."""
    state = exc.sqlstate or ""
    message = (exc.diag.message_primary if exc.diag else None) or str(exc)
    low = message.lower()
    if state == "45000":  # RAISE ... USING ERRCODE '45000' from the routines
        if low.startswith("unknown user"):
            return not_found(message)
        if low.startswith("duplicate"):
            return conflict(message)
        return bad_request(message)
    if state == "23505":
        return conflict("a user with this userName or id already exists")
    if state == "23503":
        return not_found("the user or entitlement does not exist")
    if state.startswith("22") or state in ("23502", "23514"):
        return bad_request(f"a value was rejected by the database: {message[:200]}")
    if state in _MISCONFIGURED:
        return ScimError(500, f"operation {op.name} is misconfigured: {message[:200]}")
    if not state or any(state.startswith(u) for u in _UNAVAILABLE) or isinstance(exc, psycopg.OperationalError):
        return DatabaseUnavailable()
    return ScimError(500, f"operation {op.name} failed in the database (error {state})")


def _execute(conn: psycopg.Connection[Any], items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
    sets: list[list[dict[str, Any]]] = []
    with conn.cursor() as cur:
        for statement, args in items:
            cur.execute(statement, [_bind(a) for a in args], prepare=False)
            sets.append(list(cur.fetchall()) if cur.description else [])
    return sets


def _close(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        conn.close()


__all__ = ["PgDatabase", "PgPool", "is_postgresql_url", "make_database", "map_pg_error", "target_from_jdbc"]
