"""A throw-away `db` container for tests and benchmarks: build the image, run it on a loopback
port with SQL rendered for any company, wait until healthy, connect, remove.

`lab up` does not use this (it goes through compose); it exists so the image and the SQL can be
exercised without a whole lab.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab import RESOURCES
from lab.errors import Problem, TargetError
from lab.runner import Runner

IMAGE = "okta-lab-dev/db:latest"
PG_IMAGE = "okta-lab-dev/db-postgresql:latest"

#: engine -> (compose build context, container port, data directory in the container)
ENGINE_LAYOUT = {
    "mariadb": ("db", 3306, "/var/lib/mysql"),
    "postgresql": ("db-postgresql", 5432, "/var/lib/postgresql/data"),
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_image(
    runner: Runner, tag: str = "", base_image: str = "debian:bookworm-slim", engine: str = "mariadb"
) -> str:
    """Build compose/db (or compose/db-postgresql) into `tag` (cached layers make rebuilds cheap)."""
    tag = tag or (PG_IMAGE if engine == "postgresql" else IMAGE)
    runner.run(
        ["docker", "build", "--force-rm", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag,
         str(RESOURCES / "compose" / ENGINE_LAYOUT[engine][0])],
        timeout=1200,
    )  # fmt: skip
    return tag


@dataclass
class DbContainer:
    """One MariaDB (or PostgreSQL, `engine="postgresql"`) container from the lab image, published
    on 127.0.0.1 only."""

    sql_dir: Path
    data_dir: Path
    image: str = IMAGE
    database: str = "oktademo"
    user: str = "oktademo"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    root_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    name: str = field(default_factory=lambda: f"okta-lab-dbtest-{secrets.token_hex(4)}")
    port: int = field(default_factory=free_port)
    runner: Runner = field(default_factory=Runner)
    engine: str = "mariadb"

    def env(self) -> dict[str, str]:
        if self.engine == "postgresql":
            return {
                "POSTGRES_DATABASE": self.database,
                "POSTGRES_USER": self.user,
                "POSTGRES_PASSWORD": self.password,
                "POSTGRES_ADMIN_PASSWORD": self.root_password,
            }
        return {
            "MARIADB_DATABASE": self.database,
            "MARIADB_USER": self.user,
            "MARIADB_PASSWORD": self.password,
            "MARIADB_ROOT_PASSWORD": self.root_password,
        }

    def start(self) -> None:
        """`docker run` it; secrets pass through the environment of `docker`, not its argv."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = ["docker", "run", "-d", "--init", "--name", self.name]
        for key in self.env():
            args += ["-e", key]
        args += [
            "-p", f"127.0.0.1:{self.port}:{ENGINE_LAYOUT[self.engine][1]}",
            "-v", f"{self.data_dir.resolve()}:{ENGINE_LAYOUT[self.engine][2]}",
            "-v", f"{self.sql_dir.resolve()}:/etc/lab/sql:ro",
            "--health-cmd", "/usr/local/bin/lab-healthcheck",
            "--health-interval", "2s", "--health-timeout", "20s", "--health-retries", "5",
            self.image,
        ]  # fmt: skip
        self.runner.run(args, env=self.env())

    def state(self) -> dict[str, Any]:
        import json

        out = self.runner.run(["docker", "inspect", "-f", "{{json .State}}", self.name]).stdout
        state: dict[str, Any] = json.loads(out)
        return state

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if not state.get("Running"):
                raise TargetError(Problem(f"db container exited ({state.get('ExitCode')})", self.logs()[-500:]))
            if state.get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(1)
        raise TargetError(Problem(f"db container not healthy within {timeout:.0f}s", self.logs()[-500:]))

    def wait_exit(self, timeout: float = 60) -> int:
        out = self.runner.run(["docker", "wait", self.name], timeout=timeout).stdout
        return int(out.strip())

    def logs(self) -> str:
        result = self.runner.run(["docker", "logs", self.name], check=False)
        return result.stdout + result.stderr

    def admin_sql(self, query: str, database: str = "") -> str:
        """Run `query` as the database superuser inside the container (unix socket)."""
        db = database or self.database
        if self.engine == "postgresql":
            return self.exec("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                             "psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", query)  # fmt: skip
        return self.exec("mariadb", "--protocol=socket", "-uroot", db, "-e", query)

    def exec(self, *cmd: str, check: bool = True) -> str:
        return self.runner.run(["docker", "exec", self.name, *cmd], check=check).stdout

    def restart(self) -> None:
        self.runner.run(["docker", "restart", "-t", "30", self.name], timeout=120)

    def remove(self) -> None:
        self.runner.run(["docker", "rm", "-f", "-v", self.name], check=False)

    def connect(self, *, root: bool = False, autocommit: bool = True) -> Any:
        """A PyMySQL (PostgreSQL: psycopg 3) connection as the application user (root over TCP
        is not allowed)."""
        if root:
            raise TargetError(Problem("root has no TCP login", "use exec('mariadb', ...)"))
        if self.engine == "postgresql":
            import psycopg

            return psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=self.database,
                autocommit=autocommit,
                connect_timeout=10,
            )
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            autocommit=autocommit,
            connect_timeout=10,
        )


def write_sql(files: dict[str, str], sql_dir: Path) -> None:
    """Write rendered SQL (`render_sql` output) as `<name>.sql` files."""
    sql_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (sql_dir / f"{name}.sql").write_text(text, encoding="utf-8")
