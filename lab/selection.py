"""Which components a command works on: names (default LAB_STACKS) -> components that can run here.

Shared by the pipeline and the targets (the native target renders the same content files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.catalog import Catalog, Component, load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import ConfigError, Problem
from lab.render import find_artifacts
from lab.settings.ports import published as published_ports


@dataclass(frozen=True)
class Selection:
    components: list[Component]
    skipped: list[tuple[Component, str]] = field(default_factory=list)  # (component, why)

    @property
    def services(self) -> list[str]:
        return [c.service for c in self.components]


def select(ctx: LabContext, config: LabConfig, names: list[str], catalog: Catalog | None = None) -> Selection:
    """Resolve names (default: LAB_STACKS) to components; vendor agents only with their package."""
    catalog = catalog or load_catalog()
    explicit = set(names)
    chosen = catalog.select(names or config.core.stack_list)
    keep, skipped = [], []
    for comp in chosen:
        why = unavailable(ctx, config, comp)
        if why and (comp.service in explicit or (comp.requires and comp.stack in explicit)):
            raise ConfigError(Problem(f"{comp.service} cannot start: {why}", _artifact_hint(comp)))
        if why:
            skipped.append((comp, why))
        else:
            keep.append(comp)
    check_ports(config, keep)
    return Selection(keep, skipped)


def with_running(ctx: LabContext, config: LabConfig, wanted: Selection, running: list[str]) -> Selection:
    """`wanted` plus what already runs: the compose file holds every service the lab runs."""
    active = set(wanted.services) | set(running)
    return Selection(
        [c for c in load_catalog() if c.service in active and not unavailable(ctx, config, c)],
        wanted.skipped,
    )


def unavailable(ctx: LabContext, config: LabConfig, comp: Component) -> str:
    """Why a component cannot run here, or '' when it can."""
    values = config.env_values()
    missing = [key for key in comp.requires if not values.get(key, config.raw.get(key, ""))]
    if missing:
        return f"set {', '.join(missing)} in .env"
    if comp.artifact:
        url = config.raw.get(comp.artifact.url_key, "") if comp.artifact.url_key else ""
        if not url and not find_artifacts(comp, ctx.packages_dir):
            return f"no {comp.artifact.glob} in {ctx.packages_dir}"
    return ""


def _artifact_hint(comp: Component) -> str:
    if comp.requires and not comp.artifact:
        return f"docs/{comp.stack}.md says where each value comes from"
    if not comp.artifact:
        return ""
    hint = f"put {comp.artifact.glob} ({comp.artifact.what or 'the vendor package'}) in packages/"
    if comp.artifact.url_key:
        hint += f" or set {comp.artifact.url_key} in .env"
    return hint


def check_ports(config: LabConfig, components: list[Component]) -> list[tuple[Component, str, int, str]]:
    """Published (component, key, port, proto) for the selection; ConfigError on duplicates."""
    return [(p.component, p.key, p.port, p.proto) for p in published_ports(config, components)]
