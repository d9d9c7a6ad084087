"""The server's database side: its configuration, pools, and the per-request override.

`X-OKTA-ONPREM-DATA` (as sent by the Okta Provisioning Agent to the On-prem SCIM Server) is
base64-encoded JSON. This server reads, from that JSON:

    {"jdbcUrl": "jdbc:mysql://host:3306/db?allowMultiQueries=true",
     "username": "...", "password": "...",
     "operations": {"get_users": {"kind": "sql", "statement": "...", "params": []}, ...}}

(`url`/`user` are accepted for `jdbcUrl`/`username`; `operations` is optional and may name only
some operations). A malformed header is a SCIM 400 error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from lab.errors import ConfigError
from lab.scim.bodies import parse_json
from lab.scim.db import Database, DbTarget, Pool
from lab.scim.driver import select_driver
from lab.scim.errors import ScimError, bad_request, invalid_syntax
from lab.scim.operations import OperationMap, parse_operations
from lab.scim.pgdb import PgDatabase, PgPool, is_postgresql_url, make_database, target_from_jdbc

MAX_HEADER_BYTES = 16 * 1024
MAX_EXTRA_POOLS = 8


@dataclass(frozen=True)
class ServerConfig:
    """What the server needs at start: default database, operations, token, limits."""

    target: DbTarget
    operations: OperationMap
    token: str = field(repr=False)
    pool_size: int = 8
    max_results: int = 1000
    max_body: int = 1024 * 1024
    apps: tuple[str, ...] = ()  # the {app} names /ws/rest/{app}/scim/v2 serves (SCIM_APP); empty: any
    #: SCIM_DB_DRIVER: auto (mysqlclient when installed, else PyMySQL), mysqlclient or pymysql
    driver: str = "auto"
    engine: str = "mariadb"  # of `target` (SCIM_DB_ENGINE): mariadb or postgresql (lab.scim.pgdb)


class Backend:
    """The default database plus a few cached pools for header-provided connections."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.driver = select_driver(config.driver)
        self.default = make_database(config.engine, config.target, config.pool_size, config.operations, self.driver)
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[str, DbTarget], Any] = OrderedDict()
        self._parsed: OrderedDict[str, Database] = OrderedDict()

    def database(self, header: str | None) -> Database:
        """The database for a request: the default, or the one its header names."""
        if header is None:
            return self.default
        digest = hashlib.sha256(header.encode()).hexdigest()
        with self._lock:
            cached = self._parsed.get(digest)
            if cached is not None:
                self._parsed.move_to_end(digest)
                return cached
        target, operations, engine = parse_onprem_header_engine(header, self.config.operations)
        pool = self._pool(target, engine)
        db = PgDatabase(pool, operations) if engine == "postgresql" else Database(pool, operations)
        with self._lock:
            self._parsed[digest] = db
            while len(self._parsed) > 32:
                self._parsed.popitem(last=False)
        return db

    def _pool(self, target: DbTarget, engine: str = "mariadb") -> Any:
        if target == self.config.target and engine == self.config.engine:
            return self.default.pool
        key = (engine, target)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                size = max(2, self.config.pool_size // 2)
                pg = engine == "postgresql"
                pool = self._pools[key] = PgPool(target, size) if pg else Pool(target, size, driver=self.driver)
                while len(self._pools) > MAX_EXTRA_POOLS:
                    _, old = self._pools.popitem(last=False)
                    old.close()
            self._pools.move_to_end(key)
            return pool

    def close(self) -> None:
        self.default.pool.close()
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def parse_onprem_header(value: str, base: OperationMap) -> tuple[DbTarget, OperationMap]:
    """Decode `X-OKTA-ONPREM-DATA`; raise a SCIM 400 error when it is malformed."""
    target, operations, _engine = parse_onprem_header_engine(value, base)
    return target, operations


def parse_onprem_header_engine(value: str, base: OperationMap) -> tuple[DbTarget, OperationMap, str]:
    """`parse_onprem_header` plus the engine its JDBC URL names (jdbc:postgresql: or MySQL/MariaDB)."""
    if len(value) > MAX_HEADER_BYTES:
        raise invalid_syntax(f"X-OKTA-ONPREM-DATA is larger than {MAX_HEADER_BYTES} bytes")
    data = _decode(value.strip())
    url = data.get("jdbcUrl", data.get("url"))
    user = data.get("username", data.get("user", ""))
    password = data.get("password", "")
    if not isinstance(url, str) or not url:
        raise bad_request("X-OKTA-ONPREM-DATA has no jdbcUrl", "invalidValue")
    if not isinstance(user, str) or not isinstance(password, str):
        raise bad_request("X-OKTA-ONPREM-DATA: username and password must be strings")
    engine = "postgresql" if is_postgresql_url(url) else "mariadb"
    if engine == "postgresql":
        target = target_from_jdbc(url, user, password)
    else:
        target = DbTarget.from_jdbc(url, user, password)
    operations = base
    raw_ops = data.get("operations")
    if raw_ops is not None:
        if not isinstance(raw_ops, dict):
            raise bad_request("X-OKTA-ONPREM-DATA: operations must be an object")
        try:
            operations = parse_operations(raw_ops, base=base, source="X-OKTA-ONPREM-DATA")
        except ConfigError as exc:
            raise bad_request("; ".join(p.what for p in exc.problems)) from None
    return target, operations, engine


def encode_onprem_header(data: dict[str, Any]) -> str:
    """The header value for `data` (used by `lab scim demo --header` and the tests)."""
    return base64.b64encode(json.dumps(data).encode()).decode()


def _decode(value: str) -> dict[str, Any]:
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_syntax("X-OKTA-ONPREM-DATA is not valid base64") from None
    data = parse_json(raw, "X-OKTA-ONPREM-DATA")
    if not isinstance(data, dict):
        raise invalid_syntax("X-OKTA-ONPREM-DATA must decode to a JSON object")
    return data


__all__ = ["Backend", "ScimError", "ServerConfig", "encode_onprem_header", "parse_onprem_header"]
