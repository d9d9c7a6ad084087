"""Running the SCIM server: settings from the lab config or the environment, then uvicorn.

`python -m lab.scim` is the container and systemd entry point; `lab scim serve` is the
development one. Both generate the token and certificate on first start (lab.scim.security).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lab.errors import ConfigError, Problem
from lab.scim.backend import ServerConfig
from lab.scim.db import DbTarget
from lab.scim.driver import select_driver
from lab.scim.operations import Kind, load_operations
from lab.scim.security import ensure_certificate, ensure_token

log = logging.getLogger("lab.scim")


@dataclass(frozen=True)
class Listen:
    host: str
    port: int
    cert: Path | None
    key: Path | None


def config_from_environ(environ: Mapping[str, str]) -> tuple[ServerConfig, Listen]:
    """Build the server settings from environment variables (container / systemd unit).

    SCIM_DB_HOST, SCIM_DB_PORT, MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD, SCIM_DATA_DIR,
    SCIM_LISTEN, SCIM_LISTEN_PORT, SCIM_TLS (1/0), SCIM_OPERATIONS_FILE, SCIM_OPERATION_KIND,
    SCIM_POOL_SIZE, SCIM_MAX_RESULTS, SCIM_CERT_HOSTNAME, SCIM_DB_DRIVER (auto, mysqlclient, pymysql),
    SCIM_DB_ENGINE (mariadb or postgresql).
    """
    problems: list[Problem] = []

    def need(key: str) -> str:
        value = environ.get(key, "")
        if not value:
            problems.append(Problem(f"{key} is not set", "set it in the service environment"))
        return value

    def number(key: str, default: int) -> int:
        raw = environ.get(key, "") or str(default)
        if not raw.isdigit():
            problems.append(Problem(f"{key}={raw!r} is not a whole number"))
            return default
        return int(raw)

    password = need("MARIADB_PASSWORD")
    database = environ.get("MARIADB_DATABASE", "oktademo")
    user = environ.get("MARIADB_USER", "oktademo")
    kind = environ.get("SCIM_OPERATION_KIND", "procedure") or "procedure"
    if kind not in ("procedure", "sql"):
        problems.append(Problem(f"SCIM_OPERATION_KIND={kind!r} is invalid", "use procedure or sql"))
        kind = "procedure"
    engine = environ.get("SCIM_DB_ENGINE", "") or "mariadb"
    if engine not in ("mariadb", "postgresql"):
        problems.append(Problem(f"SCIM_DB_ENGINE={engine!r} is invalid", "use mariadb or postgresql"))
        engine = "mariadb"
    data_dir = Path(environ.get("SCIM_DATA_DIR", "/var/lib/okta-lab-scim"))
    default_port = 5432 if engine == "postgresql" else 3306
    host = environ.get("SCIM_DB_HOST", "127.0.0.1")
    target = DbTarget(host, number("SCIM_DB_PORT", default_port), database, user, password)
    pool_size = number("SCIM_POOL_SIZE", 8)
    max_results = number("SCIM_MAX_RESULTS", 1000)
    port = number("SCIM_LISTEN_PORT", 1443)
    app = environ.get("SCIM_APP", "") or "jdbc_on_prem"
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", app):
        problems.append(Problem(f"SCIM_APP={app!r} is invalid", "use letters, digits, '-' and '_'"))
    driver_name = environ.get("SCIM_DB_DRIVER", "auto") or "auto"
    try:
        driver = select_driver(driver_name)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(*problems)
    ops_file = environ.get("SCIM_OPERATIONS_FILE", "")
    operations = load_operations(Path(ops_file) if ops_file else None, kind=_kind(kind))
    token = ensure_token(data_dir)
    cert = key = None
    if environ.get("SCIM_TLS", "1") != "0":
        hostnames = tuple(h for h in environ.get("SCIM_CERT_HOSTNAME", "").split(",") if h)
        cert, key = ensure_certificate(data_dir, hostnames)
    config = ServerConfig(
        target,
        operations,
        token,
        pool_size=pool_size,
        max_results=max_results,
        apps=(app,),
        driver=driver.name,
        engine=engine,
    )
    return config, Listen(environ.get("SCIM_LISTEN", "127.0.0.1"), port, cert, key)


def run(config: ServerConfig, listen: Listen, log_level: str = "info") -> None:
    """Serve until interrupted (no auto-reload, no debug pages)."""
    import uvicorn

    from lab.scim.app import create_app

    scheme = "https" if listen.cert else "http"
    log.info("SCIM server on %s://%s:%d/scim/v2 (database driver %s)", scheme, listen.host, listen.port, config.driver)
    uvicorn.run(
        create_app(config),
        host=listen.host,
        port=listen.port,
        log_level=log_level,
        access_log=log_level in ("debug", "trace", "info"),
        ssl_certfile=str(listen.cert) if listen.cert else None,
        ssl_keyfile=str(listen.key) if listen.key else None,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,
    )


def main() -> int:
    """Entry point of `python -m lab.scim` (reads the environment)."""
    logging.basicConfig(
        level=os.environ.get("SCIM_LOG_LEVEL", "INFO").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        config, listen = config_from_environ(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s", problem)
        return 2
    run(config, listen, os.environ.get("SCIM_LOG_LEVEL", "info").lower())
    return 0


def _kind(value: str) -> Kind:
    return "sql" if value == "sql" else "procedure"
