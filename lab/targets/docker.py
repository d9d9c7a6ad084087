"""The Docker target: compose up/down, image builds, health waits, status."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.catalog import Component
from lab.config import LabConfig
from lab.errors import PreflightError, Problem, TargetError
from lab.runner import Runner
from lab.targets.compose import Compose

NO_ENGINE = Problem(
    "cannot reach the Docker engine",
    "start it (`lab engine setup` installs and starts one), or check DOCKER_HOST and your permissions",
)
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class ServiceState:
    service: str
    container: str
    state: str  # running | exited | missing | ...
    health: str  # healthy | starting | unhealthy | none
    detail: str = ""
    ports: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.state == "running" and self.health in ("healthy", "none")

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "container": self.container,
            "state": self.state,
            "health": self.health,
            "detail": self.detail,
            "ports": list(self.ports),
        }


def docker_client() -> Any:
    """A connected docker SDK client, or a TargetError saying how to get one."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException:
        raise PreflightError(NO_ENGINE) from None
    return client


class DockerTarget:
    """One compose project on the local engine."""

    def __init__(self, config: LabConfig, lab_dir: Path, runner: Runner, compose: Compose) -> None:
        self.config = config
        self.lab_dir = lab_dir
        self.runner = runner
        self.compose = compose
        self.project = config.core.project

    # -- commands -------------------------------------------------------------------------------
    def compose_cmd(self, *args: str) -> list[str]:
        return [*self.compose.command, "-p", self.project, "-f", str(self.lab_dir / "compose.yml"), *args]

    def compose_env(self) -> dict[str, str]:
        """Values compose interpolates (`${KEY}` in compose.yml): the resolved config."""
        return self.config.env_values()

    def run_compose(self, *args: str, check: bool = True, timeout: float | None = None) -> str:
        result = self.runner.run(self.compose_cmd(*args), env=self.compose_env(), check=check, timeout=timeout)
        return result.stdout

    # -- lifecycle ------------------------------------------------------------------------------
    def build(self, components: list[Component], images: dict[str, str], force: bool = False) -> list[str]:
        """Build the images that do not exist yet (tags carry a hash of their build context).

        `force` rebuilds every image from its base, without the build cache.
        """
        client = docker_client()
        missing = []
        for comp in components:
            tag = images.get(comp.service)
            if not tag:
                continue
            if force or not client.images.list(name=tag):
                missing.append(comp.service)
        if missing:
            # v1 leaves a failed step's container behind unless told otherwise (v2 has no such flag)
            extra = ["--force-rm"] if self.compose.variant == "v1" else []
            extra += ["--no-cache"] if force else []
            self.run_compose("build", *extra, *missing, timeout=3600)
        return missing

    def up(self, components: list[Component]) -> None:
        names = [c.service for c in components]
        self.run_compose("up", "-d", "--no-build", *names, timeout=900)

    def down(self) -> None:
        self.run_compose("down", "--remove-orphans", timeout=300)

    def destroy(self) -> None:
        self.run_compose("down", "--remove-orphans", "--volumes", timeout=300)

    # -- observation ----------------------------------------------------------------------------
    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        client = docker_client()
        found = [
            ct.attrs for ct in client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})
        ]
        return service_states(found, services)

    def wait_healthy(
        self,
        services: list[str],
        timeout: float,
        on_update: Callable[[list[ServiceState], float], None] | None = None,
    ) -> list[ServiceState]:
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
                raise TargetError(
                    Problem(
                        f"service {bad.service} is {why}",
                        f"its last log lines:\n{self.logs_tail(bad.service)}\n(more with `lab logs {bad.service}`)",
                    )
                )
            time.sleep(1.0)

    def logs_tail(self, service: str, lines: int = 25) -> str:
        r = self.runner.run(
            self.compose_cmd("logs", "--no-color", "--tail", str(lines), service),
            env=self.compose_env(),
            check=False,
        )
        return (r.stdout + r.stderr).strip()

    def held_ports(self) -> set[int]:
        """Host ports published by this project's own containers (free for it to reuse)."""
        held = set()
        for s in self.states():
            for p in s.ports:
                held.add(int(p.split("->")[0].rsplit(":", 1)[1]))
        return held


def service_states(inspected: list[dict[str, Any]], services: list[str] | None = None) -> list[ServiceState]:
    """Per service, in order, from `docker inspect` documents of a project's containers."""
    found: dict[str, ServiceState] = {}
    for attrs in inspected:
        container = str(attrs.get("Name", "")).lstrip("/")
        name = (attrs.get("Config", {}).get("Labels") or {}).get(SERVICE_LABEL, container)
        state = attrs.get("State", {})
        health = state.get("Health") or {}
        log = health.get("Log") or []
        detail = (log[-1].get("Output", "") if log else "").strip().splitlines()
        ports = []
        for cport, binds in sorted((attrs.get("NetworkSettings", {}).get("Ports") or {}).items()):
            for b in binds or []:
                ports.append(f"{b['HostIp']}:{b['HostPort']}->{cport}")
        found[name] = ServiceState(
            service=name,
            container=container,
            state=state.get("Status", "unknown"),
            health=health.get("Status", "none"),
            detail=detail[-1] if detail else "",
            ports=tuple(ports),
        )
    names = services if services is not None else sorted(found)
    return [found.get(n) or ServiceState(n, "", "missing", "none") for n in names]


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
