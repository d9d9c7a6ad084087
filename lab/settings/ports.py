"""Host ports a selection publishes, read from the compose fragments it renders.

The checks see exactly what compose will be asked to bind, conditional ports included (e.g. the
database's `MARIADB_PUBLISH=true`), so a clash is one clear error before any container is created.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from lab.errors import ConfigError, Problem

if TYPE_CHECKING:
    from lab.catalog import Component
    from lab.config import LabConfig


@dataclass(frozen=True)
class Published:
    """One host port compose publishes: `port/proto` on the host, for `component` (.env `key`)."""

    component: Component
    key: str  # the .env key holding the host port, or "<service> ports:" when none does
    port: int
    proto: str


def published(config: LabConfig, components: list[Component]) -> list[Published]:
    """Every host port `components` publish for `config`; ConfigError naming each clash.

    Source: the `ports:` short syntax of each rendered `compose/<service>/compose.yml.j2`
    (`[HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]`, compose specification "ports").
    """
    from lab.render import base_context, template_env

    env = template_env()
    context = base_context(config, components)
    out: list[Published] = []
    for comp in components:
        fragment = env.get_template(f"{comp.service}/compose.yml.j2").render(**context, c=comp, image="image")
        for service in (yaml.safe_load(fragment) or {}).values():
            for spec in (service or {}).get("ports") or []:
                parsed = _parse(spec)
                if parsed:
                    host_port, container, proto = parsed
                    key = next(
                        (p.key for p in comp.ports if p.container == container and p.proto == proto),
                        f"{comp.service} ports:",
                    )
                    out.append(Published(comp, key, host_port, proto))
    _refuse_duplicates(out)
    return out


def busy(config: LabConfig, ports: list[Published], held: set[int], services: list[str]) -> list[Problem]:
    """A problem for each port of `services` something else already listens on (not this lab: `held`)."""
    return [
        Problem(
            f"host port {p.port} ({p.key}) is already in use on {config.core.bind}",
            f"stop what uses it or set {p.key} to a free port in .env",
        )
        for p in ports
        if p.component.service in services and p.port not in held and port_in_use(config.core.bind, p.port, p.proto)
    ]


def port_in_use(bind: str, port: int, proto: str = "tcp") -> bool:
    """True when something on this machine already listens on `bind:port` (IPv4 or IPv6 `bind`)."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(family, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind.strip("[]"), port))
        except OSError:
            return True
    return False


def _parse(spec: Any) -> tuple[int, int, str] | None:
    """`"[::1]:31389:1389/tcp"` -> (31389, 1389, "tcp"); None for a port compose picks itself."""
    if isinstance(spec, dict):  # long syntax
        if not spec.get("published"):
            return None
        return int(spec["published"]), int(spec["target"]), str(spec.get("protocol", "tcp"))
    text, _, proto = str(spec).partition("/")
    parts = text.rsplit(":", 2)  # the host IP may itself hold colons (IPv6)
    if len(parts) < 2 or not parts[-2].isdigit():
        return None
    return int(parts[-2]), int(parts[-1]), proto or "tcp"


def _refuse_duplicates(ports: list[Published]) -> None:
    seen: dict[tuple[int, str], str] = {}
    problems = []
    for p in ports:
        owner = seen.get((p.port, p.proto))
        if owner and owner != p.key:
            problems.append(
                Problem(
                    f"{p.key} and {owner} both use host port {p.port}/{p.proto}",
                    f"give {p.key} a different port in .env",
                )
            )
        seen.setdefault((p.port, p.proto), p.key)
    if problems:
        raise ConfigError(*problems)
