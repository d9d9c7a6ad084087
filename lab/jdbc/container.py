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


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_image(runner: Runner, tag: str = IMAGE, base_image: str = "debian:bookworm-slim") -> str:
    """Build compose/db into `tag` (cached layers make rebuilds cheap)."""
    runner.run(
        ["docker", "build", "--force-rm", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag,
         str(RESOURCES / "compose" / "db")],
        timeout=1200,
    )  # fmt: skip
    return tag


@dataclass
class DbContainer:
    """One MariaDB container from the lab image, published on 127.0.0.1 only."""

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

    def env(self) -> dict[str, str]:
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
            "-p", f"127.0.0.1:{self.port}:3306",
            "-v", f"{self.data_dir.resolve()}:/var/lib/mysql",
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

    def exec(self, *cmd: str, check: bool = True) -> str:
        return self.runner.run(["docker", "exec", self.name, *cmd], check=check).stdout

    def restart(self) -> None:
        self.runner.run(["docker", "restart", "-t", "30", self.name], timeout=120)

    def remove(self) -> None:
        self.runner.run(["docker", "rm", "-f", "-v", self.name], check=False)

    def connect(self, *, root: bool = False, autocommit: bool = True) -> Any:
        """A PyMySQL connection as the application user (or root over TCP is not allowed)."""
        import pymysql

        if root:
            raise TargetError(Problem("root has no TCP login", "use exec('mariadb', ...)"))
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
