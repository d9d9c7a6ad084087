"""Docker targets: one compose project, driven through a runner — here (`DockerTarget`) or on a
host over SSH (`lab.targets.remote.RemoteDockerTarget`, the same class with other probes).

Commands (all through the runner, so `--dry-run` shows them with the detected compose variant):
`compose build`, `compose up -d --no-build`, `compose down`, `compose logs`, `docker exec`.
Probes: the engine (`docker_client`), container states, image tags, busy ports.
"""

from __future__ import annotations

import re
import shlex
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.catalog import Component
from lab.config import LabConfig
from lab.errors import PreflightError, Problem, TargetError
from lab.runner import CommandRunner
from lab.state import DockerLocal, TargetRecord
from lab.targets.base import OnUpdate, ServiceState, service_states
from lab.targets.compose import Compose

NO_ENGINE = Problem(
    "cannot reach the Docker engine",
    "start it (`lab engine setup` installs and starts one), or check DOCKER_HOST and your permissions",
)
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ABSENT = 3  # exit status of a file read when the file does not exist

__all__ = ["DockerTarget", "ComposeTarget", "ServiceState", "service_states", "docker_client", "port_in_use"]


def docker_client() -> Any:
    """A connected docker SDK client, or a PreflightError saying how to get one."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException:
        raise PreflightError(NO_ENGINE) from None
    return client


class ComposeTarget:
    """A compose project in `directory` (its `.lab/compose.yml`, its `data/`), wherever `runner` runs."""

    record: TargetRecord = DockerLocal()

    def __init__(
        self,
        project: str,
        directory: str,
        runner: CommandRunner,
        compose: Compose | None,
        env: dict[str, str],
        prefer: str | None = None,
    ) -> None:
        self.project = project
        self.directory = directory
        self.runner = runner
        self._compose = compose
        self._prefer = prefer
        self.env = env  # what compose interpolates (`${KEY}` in compose.yml): the resolved config

    @property
    def compose(self) -> Compose:
        """The compose where the runner runs, detected on first use (status and reads need none)."""
        if self._compose is None:
            self._compose = self.detect_compose()
        return self._compose

    def detect_compose(self) -> Compose:
        from lab.targets.compose import detect_compose

        return detect_compose(self.runner, self._prefer)

    # -- commands -------------------------------------------------------------------------------
    def compose_cmd(self, *args: str) -> list[str]:
        return [*self.compose.command, "-p", self.project, "-f", f"{self.directory}/.lab/compose.yml", *args]

    def compose_env(self) -> dict[str, str]:
        return self.env

    def run_compose(self, *args: str, check: bool = True, timeout: float | None = None) -> str:
        result = self.runner.run(
            self.compose_cmd(*args), env=self.env, check=check, timeout=timeout, cwd=self.directory
        )
        return result.stdout

    def build(self, components: list[Component], images: dict[str, str], force: bool = False) -> list[str]:
        """Build the images that do not exist yet (tags carry a hash of their build context).

        `force` rebuilds every image from its base, without the build cache.
        """
        wanted, tags = [], set()
        for c in components:  # one service per image: glpi-db builds the image db builds
            if images.get(c.service) and images[c.service] not in tags:
                wanted.append(c.service)
                tags.add(images[c.service])
        absent = set(self.missing_images([images[s] for s in wanted]))
        missing = [s for s in wanted if force or images[s] in absent]
        if missing:
            # v1 leaves a failed step's container behind unless told otherwise (v2 has no such flag)
            extra = ["--force-rm"] if self.compose.variant == "v1" else []
            extra += ["--no-cache"] if force else []
            self.run_compose("build", *extra, *missing, timeout=3600)
        return missing

    def up(self, components: list[Component]) -> None:
        self.run_compose("up", "-d", "--no-build", *[c.service for c in components], timeout=1800)

    def down(self) -> None:
        self.run_compose("down", "--remove-orphans", timeout=600)

    def destroy(self) -> list[str]:
        self.run_compose("down", "--remove-orphans", "--volumes", timeout=600)
        return ["containers"]

    def reset(self, services: list[str]) -> None:
        self.run_compose("rm", "-s", "-f", *services, timeout=300)
        self.runner.run(["rm", "-rf", *[f"{self.directory}/data/{s}" for s in services]], cwd=self.directory)

    def logs(self, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
        args = self.compose_cmd("logs", "--no-color", "--tail", str(int(tail)), *(["-f"] if follow else []))
        args += [service] if service else []
        # compose v2 adds terminal codes even to a pipe
        return self.runner.stream(args, lambda line: write(_ANSI.sub("", line)), env=self.env, cwd=self.directory)

    def logs_tail(self, service: str, lines: int = 25) -> str:
        args = self.compose_cmd("logs", "--no-color", "--tail", str(lines), service)
        r = self.runner.query(args, env=self.env, cwd=self.directory, timeout=60)
        return _ANSI.sub("", r.stdout + r.stderr).strip()

    def exec(self, service: str, cmd: list[str], environment: dict[str, str] | None = None) -> tuple[int, bytes]:
        """`docker exec` in the service's running container; values reach it as `-e NAME` only."""
        name = self.container(service)
        if name is None:
            raise TargetError(Problem(f"service {service} has no running container", "run `lab status`"))
        env = environment or {}
        args = ["docker", "exec", *[a for key in env for a in ("-e", key)], name, *cmd]
        r = self.runner.query(args, env=env, timeout=120)
        return r.returncode, (r.stdout + r.stderr).encode()

    # -- generated files (data/<service>/<name>) --------------------------------------------------
    def data_path(self, rel: str) -> str:
        return f"{self.directory}/data/{rel}"

    def read_file(self, rel: str) -> str | None:
        out = self._read(rel, "cat")
        return None if out is None else out.strip()

    def file_mode(self, rel: str) -> int | None:
        out = self._read(rel, "stat -c %a")
        return None if out is None else int(out.strip(), 8)

    def file_where(self, rel: str) -> str:
        where = self.runner.where
        return f"{where}:{self.data_path(rel)}" if where else self.data_path(rel)

    def _read(self, rel: str, command: str) -> str | None:
        path = shlex.quote(self.data_path(rel))
        args = ["sh", "-c", f"test -e {path} || exit {_ABSENT}; {command} {path}"]
        r = self.runner.query(args, timeout=30)  # over SSH as a sudo user, the runner becomes root
        if r.returncode == _ABSENT:
            return None
        if not r.ok:
            raise TargetError(Problem(f"cannot read {self.file_where(rel)}: {r.stderr.strip() or r.returncode}"))
        return r.stdout

    # -- probes ---------------------------------------------------------------------------------
    def wait(self, services: list[str], timeout: float, on_update: OnUpdate | None = None) -> list[ServiceState]:
        """Poll container health until every service is ready; raise with its logs on timeout."""
        start = time.monotonic()
        while True:
            states = self.states(services)
            elapsed = time.monotonic() - start
            if on_update:
                on_update(states, elapsed)
            if all(s.ready for s in states):
                return states
            dead = [s for s in states if s.state in ("exited", "dead") or s.health == "unhealthy"]
            if dead or elapsed > timeout:
                bad = dead[0] if dead else next(s for s in states if not s.ready)
                why = f"{bad.state}/{bad.health}" if dead else f"not healthy after {timeout:.0f}s"
                on = f" on {self.runner.where}" if self.runner.where else ""
                raise TargetError(
                    Problem(
                        f"service {bad.service}{on} is {why}",
                        f"its last log lines:\n{self.logs_tail(bad.service)}\n(more with `lab logs {bad.service}`)",
                    )
                )
            time.sleep(1.0)

    wait_healthy = wait

    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        label = shlex.quote(f"label={PROJECT_LABEL}={self.project}")
        script = f'ids=$(docker ps -aq --filter {label}); [ -z "$ids" ] && echo "[]" || docker inspect $ids'
        r = self.runner.query(["sh", "-c", script], timeout=120)
        if not r.ok:
            raise TargetError(Problem(f"docker inspect on {self.runner.where or 'this machine'} failed: {r.stderr}"))
        import json

        return service_states(json.loads(r.stdout or "[]"), services)

    def container(self, service: str) -> str | None:
        """The name of the service's running container, or None."""
        for s in self.states([service]):
            if s.state == "running":
                return s.container
        return None

    def image_exists(self, tag: str) -> bool:
        return self.runner.query(["docker", "image", "inspect", "-f", ".", tag], timeout=60).ok

    def pull(self, image: str) -> bool:
        """Make a third-party image present: True when the engine has it or pulled it now."""
        if self.image_exists(image):
            return True
        try:
            return self.runner.run(["docker", "pull", image], check=False, timeout=1800).ok
        except TargetError:  # the registry did not answer in time
            return False

    def missing_images(self, tags: list[str]) -> list[str]:
        """The tags of `tags` the engine does not have."""
        return [t for t in tags if not self.image_exists(t)]

    def close(self) -> None:
        self.runner.close()


class DockerTarget(ComposeTarget):
    """The compose project on this machine's engine; probes through the Docker SDK (no fork)."""

    record: TargetRecord = DockerLocal()

    def __init__(
        self,
        config: LabConfig,
        lab_dir: Path,
        runner: CommandRunner,
        compose: Compose | None = None,
        prefer: str | None = None,
    ) -> None:
        super().__init__(config.core.project, str(lab_dir.parent), runner, compose, config.env_values(), prefer)
        self.config = config
        self.lab_dir = lab_dir
        self._client: Any = None

    @property
    def client(self) -> Any:
        """One Docker SDK client (connected and pinged once) for every probe of this target."""
        if self._client is None:
            self._client = docker_client()
        return self._client

    def reset(self, services: list[str]) -> None:
        import shutil

        self.run_compose("rm", "-s", "-f", *services, timeout=300)
        if not self.runner.dry_run:
            for name in services:
                shutil.rmtree(Path(self.data_path(name)), ignore_errors=True)

    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        label = {"label": f"{PROJECT_LABEL}={self.project}"}
        found = [ct.attrs for ct in self.client.containers.list(all=True, filters=label)]
        return service_states(found, services)

    def image_exists(self, tag: str) -> bool:
        return bool(self.client.images.list(name=tag))

    def read_file(self, rel: str) -> str | None:
        try:
            return Path(self.data_path(rel)).read_text().strip()
        except OSError:
            return None

    def file_mode(self, rel: str) -> int | None:
        try:
            return Path(self.data_path(rel)).stat().st_mode & 0o7777
        except OSError:
            return None

    def held_ports(self) -> set[int]:
        """Host ports published by this project's own containers (free for it to reuse)."""
        held = set()
        for s in self.states():
            for p in s.ports:
                held.add(int(p.split("->")[0].rsplit(":", 1)[1]))
        return held


def port_in_use(bind: str, port: int, proto: str = "tcp") -> bool:
    """True when something on this machine already listens on `bind:port`."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind, port))
        except OSError:
            return True
    return False
