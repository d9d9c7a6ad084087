"""Database access: JDBC-style targets, a small connection pool, and error mapping.

Every value is bound by the driver (`cursor.execute(statement, args)`); statement texts come
only from the operation map. The driver is mysqlclient when installed, else PyMySQL
(lab.scim.driver). The pool re-connects after a database restart: a broken connection is
dropped and the call retried once on a fresh one.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lab.scim.driver import Driver, select_driver
from lab.scim.errors import ScimError, bad_request, conflict, not_found
from lab.scim.operations import Lookup, Operation, OperationMap, to_pyformat

#: MySQL client errors meaning "the connection is gone" (server restarted, timed out, ...).
_CONNECTION_LOST = {2003, 2006, 2013, 2055, 0}
_IDLE_PING_SECONDS = 30.0
#: How long an import may page through one "get users" snapshot (pages after the first).
SNAPSHOT_SECONDS = 300.0
_MAX_COMPILED = 256
#: Reads without parameters kept for `list_cache_seconds`: "get users" (paging), "get all users"
#: (the filters SQL cannot answer) and "get all entitlements" (read by every create or update
#: that names entitlements, and by /Schemas).
_CACHED = frozenset({"get_users", "get_all_users", "get_all_entitlements"})
#: What a write through this server drops: the user lists. "Get all entitlements" stays (for its
#: few seconds): no operation writes ENTITLEMENTS, so a run of creates does not re-read it each.
_USER_LISTS = ("get_users", "get_all_users")
_JDBC = re.compile(r"^jdbc:(mysql|mariadb)://", re.IGNORECASE)


@dataclass(frozen=True)
class DbTarget:
    """Where and as whom to connect. Hashable: one pool per distinct target."""

    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)

    @classmethod
    def from_jdbc(cls, url: str, user: str, password: str) -> DbTarget:
        """Parse `jdbc:mysql://host:3306/db?allowMultiQueries=true` (also `jdbc:mariadb:`)."""
        if not isinstance(url, str) or not _JDBC.match(url):
            raise bad_request("the JDBC URL must look like jdbc:mysql://host:3306/database")
        return cls(*parse_jdbc_url(url, user, password, default_port=3306, name_max=64))


def parse_jdbc_url(
    url: str, user: str, password: str, *, default_port: int, name_max: int
) -> tuple[str, int, str, str, str]:
    """`(host, port, database, user, password)` of a `jdbc:<kind>://host[:port]/db[?user=&password=]`
    URL; `user`/`password` given here win over the URL's parameters. A bad port, a missing host or
    a database name outside `[A-Za-z0-9_$]{1,name_max}` is a SCIM 400."""
    parts = urlsplit(url[5:])
    query = parse_qs(parts.query)
    try:
        port = parts.port or default_port
    except ValueError:
        raise bad_request("the JDBC URL has an invalid port") from None
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not re.fullmatch(rf"[A-Za-z0-9_$]{{1,{name_max}}}", database):
        raise bad_request("the JDBC URL needs a host and a database name")
    user = user or (query.get("user") or [""])[0]
    password = password or (query.get("password") or [""])[0]
    return parts.hostname, port, database, user, password


class DatabaseUnavailable(ScimError):
    def __init__(self, detail: str = "the database is unavailable; try again shortly") -> None:
        super().__init__(503, detail)


class Pool:
    """A bounded pool of autocommit connections to one target (`driver`: lab.scim.driver)."""

    def __init__(
        self, target: DbTarget, size: int = 8, connect_timeout: float = 5.0, driver: Driver | None = None
    ) -> None:
        self.target = target
        self.size = size
        self.connect_timeout = connect_timeout
        self.driver = driver or select_driver()
        self._idle: queue.LifoQueue[tuple[Any, float]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    def connect(self) -> Any:
        t = self.target
        return self.driver.connect(
            host=t.host,
            port=t.port,
            user=t.user,
            password=t.password,
            database=t.database,
            connect_timeout=self.connect_timeout,
        )

    def run(self, statement: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """Execute one statement and return the rows of its first result set."""
        return self.run_batch([(statement, args)])[0]

    def run_batch(self, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        """Execute statements in one round trip; the first result set of each (or []), in order.

        When the connection is lost, the statements not yet answered are retried once on a fresh
        connection (as if each had been sent alone). A driver error carries `lab_index`, the
        position of the statement that failed.
        """
        driver = self.driver
        done: list[list[dict[str, Any]]] = []
        if not self._slots.acquire(timeout=30):
            raise DatabaseUnavailable("too many concurrent database calls; try again")
        try:
            for attempt in (1, 2):
                conn = self._checkout()
                try:
                    _execute(driver, conn, items[len(done) :], done)
                except driver.OperationalError as exc:
                    _close(conn)
                    if _code(exc) in _CONNECTION_LOST and attempt == 1:
                        continue
                    _at(exc, len(done))
                    raise
                except driver.InterfaceError as exc:
                    _close(conn)
                    if attempt == 1:
                        continue
                    _at(exc, len(done))
                    raise
                except driver.Error as exc:
                    self._idle.put((conn, time.monotonic()))
                    _at(exc, len(done))
                    raise
                self._idle.put((conn, time.monotonic()))
                return done
            raise DatabaseUnavailable()
        finally:
            self._slots.release()

    def _checkout(self) -> Any:
        try:
            conn, since = self._idle.get_nowait()
        except queue.Empty:
            return self.connect()
        if time.monotonic() - since > _IDLE_PING_SECONDS:
            try:
                self.driver.ping(conn)
            except self.driver.Error:
                _close(conn)
                return self.connect()
        return conn

    def close(self) -> None:
        while True:
            try:
                conn, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            _close(conn)


class Database:
    """Runs connector operations by name against one pool."""

    def __init__(
        self, pool: Pool, operations: OperationMap, list_cache_seconds: float = 5.0, dialect: str = "mariadb"
    ) -> None:
        self.pool = pool
        self.operations = operations
        self.list_cache_seconds = list_cache_seconds
        self.dialect = dialect
        self._compiled: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._sorted: tuple[float, list[dict[str, Any]]] | None = None

    def call(self, name: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run operation `name`, binding `values[field]` for each of its params, in order.

        "get users", "get all users" and "get all entitlements" results are kept for a few seconds
        (paging through a large list does not re-run it per page; a create does not re-read the
        entitlements); any write through this server drops them.
        """
        if name in _CACHED:
            cached = self._cache.get(name)
            if cached and time.monotonic() - cached[0] < self.list_cache_seconds:
                return cached[1]
        rows = self.call_many([(name, values)])[0]
        if name in _CACHED:
            self._cache[name] = (time.monotonic(), rows)
        return rows

    def _writes(self) -> None:
        """Drop what a write may have changed (before it runs, and again after)."""
        for name in _USER_LISTS:
            self._cache.pop(name, None)
        self._sorted = None

    def sorted_users(self, *, fresh: bool) -> list[dict[str, Any]]:
        """ "get users" rows ordered by USER_ID, from a snapshot an import pages through.

        `fresh` (a list's first page) re-reads after `list_cache_seconds`; later pages reuse the
        snapshot for up to SNAPSHOT_SECONDS, so that paging 100,000 users neither re-reads nor
        re-sorts them per page. Any write through this server drops it.
        """
        snap = self._sorted
        now = time.monotonic()
        if snap is not None and now - snap[0] < (self.list_cache_seconds if fresh else SNAPSHOT_SECONDS):
            return snap[1]
        rows = sorted(self.call("get_users", {}), key=lambda r: str(r.get("USER_ID")))
        self._sorted = (now, rows)
        return rows

    def query(self, lookup: Lookup, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        """Run statements built around `lookup` (lab.scim.sqlfilter) in one round trip.

        Texts use JDBC `?` placeholders; they are made only from the validated lookup and the
        fixed filter columns, and every value is bound by the driver.
        """
        batch = []
        for text, args in items:
            statement = self._texts.get(text)
            if statement is None:
                if len(self._texts) > _MAX_COMPILED:
                    self._texts.clear()
                statement = self._texts[text] = to_pyformat(text)
            batch.append((statement, args))
        try:
            return self.pool.run_batch(batch)
        except self.driver_errors() as exc:
            raise self.map_error(lookup, exc) from None

    def driver_errors(self) -> type[BaseException]:
        """The exception class of the database driver in use (its errors are mapped to SCIM)."""
        error: type[BaseException] = self.pool.driver.Error
        return error

    def map_error(self, op: Operation | Lookup, exc: BaseException) -> ScimError:
        """The SCIM error for a driver error raised while `op` ran (`map_db_error`)."""
        return map_db_error(op, exc)

    def call_many(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Run several operations in one database round trip, in order; rows per operation.

        Writes may come first and reads of their result after them (a create and the read of the
        new user): the database runs the statements one after the other and stops at the first
        that fails, whose error is mapped as that operation's (lab.scim.db.map_db_error).
        """
        writes = any(not name.startswith("get_") for name, _ in calls)
        if writes:
            self._writes()
        try:
            return self._run_calls(calls)
        finally:
            if writes:
                self._writes()

    def _run_calls(self, calls: Sequence[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        items = []
        for name, values in calls:
            op = self.operations[name]
            statement = self._compiled.get(name)
            if statement is None:
                statement = self._compiled[name] = to_pyformat(op.statement)
            items.append((statement, [values.get(param) for param in op.params]))
        try:
            return self.pool.run_batch(items)
        except self.driver_errors() as exc:
            index = getattr(exc, "lab_index", 0)
            raise self.map_error(self.operations[calls[min(index, len(calls) - 1)][0]], exc) from None


def map_db_error(op: Operation | Lookup, exc: BaseException) -> ScimError:
    """Turn a driver error (including procedure SIGNAL messages) into a SCIM error."""
    code = _code(exc)
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    low = message.lower()
    if code == 1644:  # SIGNAL SQLSTATE '45000' from the procedures
        if low.startswith("unknown user"):
            return not_found(message)
        if low.startswith("duplicate"):
            return conflict(message)
        return bad_request(message)
    if code == 1062:
        return conflict("a user with this userName or id already exists")
    if code == 1452:
        return not_found("the user or entitlement does not exist")
    if code in (1048, 1364, 1406, 1264, 1292, 1366, 1265):
        return bad_request(f"a value was rejected by the database: {_first_clause(message)}")
    if code in (1305, 1146, 1054, 1064, 1318, 1142, 1370):
        return ScimError(500, f"operation {op.name} is misconfigured: {_first_clause(message)}")
    if code in _CONNECTION_LOST or code in (1045, 1044, 1049, 1040, 1203, 2002, 2005):
        return DatabaseUnavailable()
    return ScimError(500, f"operation {op.name} failed in the database (error {code})")


def _execute(
    driver: Driver, conn: Any, items: Sequence[tuple[str, Sequence[Any]]], out: list[list[dict[str, Any]]]
) -> None:
    """Run `items` in one round trip, appending each statement's first result set (or []) to `out`.

    A statement's answer is known by its form: a CALL answers with its procedure's result sets
    and then a status (OK) result; any other statement with one result, rows or status. So
    `len(out)` is always the index of the statement that is running when an error is raised.
    """
    with conn.cursor() as cur:
        if len(items) == 1:
            statement, args = items[0]
            cur.execute(statement, tuple(args))
        else:
            # Several statements in one round trip: each value is escaped by the driver (mogrify),
            # the statement texts come from the validated operation map (one statement each, no `;`).
            cur.execute(";\n".join(driver.mogrify(cur, stmt, args) for stmt, args in items))
        for i, (statement, _) in enumerate(items):
            if i > 0 and not cur.nextset():
                raise driver.ProgrammingError(0, "a batched operation returned an unexpected number of results")
            rows = list(cur.fetchall()) if cur.description else []
            if statement.lstrip()[:5].upper() == "CALL ":
                while cur.description and cur.nextset():  # the procedure's other result sets...
                    if cur.description:
                        cur.fetchall()
                # ...up to its status result, which ends the CALL
            out.append(rows)
        while cur.nextset():  # nothing is expected here; drained so the connection stays usable
            pass


def _at(exc: Exception, index: int) -> None:
    """Note on a driver error which statement of its batch failed (for map_db_error's name)."""
    exc.lab_index = index  # type: ignore[attr-defined]


def _code(exc: BaseException) -> int:
    arg = exc.args[0] if exc.args else 0
    return arg if isinstance(arg, int) else 0


def _first_clause(message: str) -> str:
    return message.split(" at row")[0][:200]


def _close(conn: Any) -> None:
    with contextlib.suppress(Exception):  # already broken; closing is best effort
        conn.close()
