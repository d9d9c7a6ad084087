"""The one protocol every target implements, and the service state they all report.

A target is a small class plus data: it declares the commands it runs (through its runner, so
`--dry-run` shows them) and the probes that read its state. The pipeline picks one from
`.lab/lab.json` (`lab.targets.open_target`) and drives it; no target imports the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lab.catalog import Component
from lab.runner import CommandRunner
from lab.state import TargetRecord

#: called while waiting: the states so far and the seconds waited
OnUpdate = Callable[[list["ServiceState"], float], None]


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


class Target(Protocol):
    """Where a lab runs. Every method may raise TargetError; none prints."""

    record: TargetRecord

    @property
    def runner(self) -> CommandRunner: ...

    def build(self, components: list[Component], images: dict[str, str], force: bool = False) -> list[str]:
        """Build missing images (all with `force`); the services built."""

    def up(self, components: list[Component]) -> None:
        """Start the components (their rendered files already delivered)."""

    def wait(self, services: list[str], timeout: float, on_update: OnUpdate | None = None) -> list[ServiceState]:
        """Block until every service is ready; TargetError with its log tail otherwise."""

    def states(self, services: list[str] | None = None) -> list[ServiceState]: ...

    def down(self) -> None:
        """Stop and remove what runs; data stays."""

    def destroy(self) -> list[str]:
        """Remove what runs and its data on the target; what was removed, for people."""

    def reset(self, services: list[str]) -> None:
        """Remove the services' containers and data so the next `up` starts them fresh."""

    def logs(self, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
        """Feed log lines to `write`; the exit status of the log command."""

    def exec(self, service: str, cmd: list[str], environment: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Run `cmd` in the service; environment values never on a command line."""

    def read_file(self, rel: str) -> str | None:
        """A generated file (`<service>/<name>`, e.g. `scim/token`), stripped; None if absent."""

    def file_mode(self, rel: str) -> int | None: ...

    def container(self, service: str) -> str | None:
        """Where the service runs: its running container's name (Docker), its host's (native)."""

    def file_where(self, rel: str) -> str:
        """Where the file is, for people: a local path or `host:path`."""

    def close(self) -> None: ...


def service_states(inspected: list[dict[str, Any]], services: list[str] | None = None) -> list[ServiceState]:
    """Per service, in order, from `docker inspect` documents of a project's containers."""
    from lab.targets.docker import SERVICE_LABEL

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


@dataclass(frozen=True)
class ServiceExec:
    """A service of a target with the Docker SDK's `exec_run` shape (for code written against it)."""

    target: Target
    service: str

    def exec_run(
        self, cmd: list[str], environment: dict[str, str] | None = None, demux: bool = False
    ) -> tuple[int, bytes]:
        return self.target.exec(self.service, cmd, environment)
