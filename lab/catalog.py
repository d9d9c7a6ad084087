"""The component catalog: every service declared once, in `compose/<service>/component.yaml`.

A component says which stack it belongs to, what it publishes, which `.env` keys it reads, which
templates it renders, what vendor artifact it needs, and what it adds to the demo card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from lab import RESOURCES
from lab.errors import ConfigError, Problem
from lab.yamlload import FAST_LOADER


@dataclass(frozen=True)
class Port:
    key: str  # the .env key holding the host port
    container: int
    proto: str = "tcp"
    published: bool = True
    name: str = ""


@dataclass(frozen=True)
class Artifact:
    """A vendor package the toolkit may not ship; the user drops it in `packages/`."""

    glob: str
    url_key: str = ""
    what: str = ""


@dataclass(frozen=True)
class CardLine:
    label: str
    value: str  # a Jinja2 expression rendered with the config
    secret: bool = False
    target: str = ""  # "docker" or "host": the line is true only there ("": on every target)


@dataclass(frozen=True)
class Component:
    service: str
    stack: str
    description: str
    build: bool = True
    base: str = "bookworm"  # the base image it builds FROM: bookworm (LAB_BASE_IMAGE) or trixie
    image: str = ""
    needs_registry: bool = False
    image_key: str = ""  # the .env key naming a third-party image (needs_registry services that build nothing)
    default: bool = True
    depends_on: tuple[str, ...] = ()
    ports: tuple[Port, ...] = ()
    config_keys: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # .env keys that must be set for it to start
    artifact: Artifact | None = None
    templates: tuple[str, ...] = ()
    card: tuple[CardLine, ...] = ()
    ui: str = ""  # port key of the web UI, for tunnels and the card
    configure: tuple[str, ...] = ()  # the vendor's interactive registration command
    source: bool = False  # the build context gets the okta-lab source in src/ (the toolkit's own apps)
    shared: tuple[str, ...] = ()  # files from compose/_shared/ several images use
    build_from: str = ""  # build the image of this other service (same folder, same tag), e.g. glpi-db from db
    post_up: tuple[str, ...] = ()  # a command `lab up` runs in the service once it is healthy (idempotent)
    host_data: str = ""  # on a native host, the folder holding what Docker keeps in data/<service>/
    host_unit: str = ""  # on a native host, its systemd unit (default: the service name)
    host_units: tuple[str, ...] = ()  # further units of it there, optional ones too (stopped and started with it)
    host_purge: tuple[str, ...] = ()  # distribution packages `lab destroy` purges on a native host
    host_remove: tuple[str, ...] = ()  # paths `lab destroy` removes on a native host (data, units, config)
    home: Path = field(default=Path("."), compare=False)

    @property
    def compose_template(self) -> Path:
        return self.home / "compose.yml.j2"

    @property
    def optional(self) -> bool:
        """Vendor-agent services join their stack only when their package is present."""
        return self.artifact is not None


@dataclass(frozen=True)
class Catalog:
    components: tuple[Component, ...]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.components)

    @property
    def stacks(self) -> list[str]:
        return sorted({c.stack for c in self.components})

    def get(self, service: str) -> Component:
        for c in self.components:
            if c.service == service:
                return c
        raise KeyError(service)

    def in_stack(self, stack: str) -> list[Component]:
        return [c for c in self.components if c.stack == stack]

    def named(self, name: str) -> list[Component]:
        """The components `name` stands for, without their dependencies: a stack's own services,
        or one service. Unknown names raise the same `ConfigError` as `select`."""
        self.select([name])
        return self.in_stack(name) if name in self.stacks else [self.get(name)]

    def select(self, names: list[str]) -> list[Component]:
        """Resolve stack and service names (plus dependencies) to components, in catalog order."""
        wanted: set[str] = set()
        unknown = []
        for name in names:
            if name in self.stacks:
                wanted.update(c.service for c in self.in_stack(name))
            elif any(c.service == name for c in self.components):
                wanted.add(name)
            else:
                unknown.append(name)
        if unknown:
            raise ConfigError(
                *(
                    Problem(
                        f"unknown stack or service {n!r}",
                        f"choose from stacks {', '.join(self.stacks)} or services "
                        f"{', '.join(c.service for c in self.components)} (see `lab list`)",
                    )
                    for n in unknown
                )
            )
        queue = list(wanted)
        while queue:
            for dep in self.get(queue.pop()).depends_on:
                if dep not in wanted:
                    wanted.add(dep)
                    queue.append(dep)
        return [c for c in self.components if c.service in wanted]


def _component(home: Path, data: dict) -> Component:  # type: ignore[type-arg]
    art = data.get("artifact")
    return Component(
        service=data["service"],
        stack=data["stack"],
        description=data["description"],
        build=data.get("build", True),
        base=data.get("base", "bookworm"),
        image=data.get("image", ""),
        needs_registry=data.get("needs_registry", False),
        image_key=data.get("image_key", ""),
        default=data.get("default", True),
        depends_on=tuple(data.get("depends_on", ())),
        ports=tuple(Port(**p) for p in data.get("ports", ())),
        config_keys=tuple(data.get("config_keys", ())),
        requires=tuple(data.get("requires", ())),
        artifact=Artifact(**art) if art else None,
        templates=tuple(data.get("templates", ())),
        card=tuple(CardLine(**c) for c in data.get("card", ())),
        ui=data.get("ui", ""),
        configure=tuple(data.get("configure", ())),
        source=data.get("source", False),
        shared=tuple(data.get("shared", ())),
        build_from=data.get("build_from", ""),
        post_up=tuple(data.get("post_up", ())),
        host_data=data.get("host_data", ""),
        host_unit=data.get("host_unit", ""),
        host_units=tuple(data.get("host_units", ())),
        host_purge=tuple(data.get("host_purge", ())),
        host_remove=tuple(data.get("host_remove", ())),
        home=home,
    )


@cache
def load_catalog(root: Path = RESOURCES / "compose") -> Catalog:
    """Read every `compose/*/component.yaml`, ordered by (`order`, service)."""
    entries = []
    for spec in sorted(root.glob("*/component.yaml")):
        data = yaml.load(spec.read_text(), Loader=FAST_LOADER)
        entries.append((data.get("order", 50), data["service"], _component(spec.parent, data)))
    return Catalog(tuple(c for _, _, c in sorted(entries, key=lambda e: (e[0], e[1]))))
