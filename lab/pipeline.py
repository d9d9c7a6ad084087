"""The table of contents: load -> validate -> select -> render -> bring up -> wait.

Every command that touches a lab goes through these functions; the CLI only parses and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.catalog import Catalog, Component, load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import ConfigError, PreflightError, Problem, TargetError, UsageError
from lab.render import RenderResult, find_artifacts, render_lab
from lab.settings.ports import published as published_ports
from lab.state import LabState
from lab.targets.compose import detect_compose
from lab.targets.docker import DockerTarget, ServiceState, docker_client, port_in_use

if TYPE_CHECKING:
    from lab.targets.remote import RemoteLab


@dataclass(frozen=True)
class Selection:
    components: list[Component]
    skipped: list[tuple[Component, str]] = field(default_factory=list)  # (component, why)

    @property
    def services(self) -> list[str]:
        return [c.service for c in self.components]


@dataclass(frozen=True)
class UpResult:
    selection: Selection
    rendered: RenderResult
    built: list[str]
    states: list[ServiceState]


def load_config(ctx: LabContext) -> LabConfig:
    return LabConfig.from_env(ctx.env_path)


def select(ctx: LabContext, config: LabConfig, names: list[str], catalog: Catalog | None = None) -> Selection:
    """Resolve names (default: LAB_STACKS) to components; vendor agents only with their package."""
    catalog = catalog or load_catalog()
    explicit = set(names)
    chosen = catalog.select(names or config.core.stack_list)
    keep, skipped = [], []
    for comp in chosen:
        why = unavailable(ctx, config, comp)
        if why and comp.service in explicit:
            raise ConfigError(Problem(f"{comp.service} cannot start: {why}", _artifact_hint(comp)))
        if why:
            skipped.append((comp, why))
        else:
            keep.append(comp)
    check_ports(config, keep)
    return Selection(keep, skipped)


def unavailable(ctx: LabContext, config: LabConfig, comp: Component) -> str:
    """Why a component cannot run here, or '' when it can."""
    if comp.artifact:
        url = config.raw.get(comp.artifact.url_key, "") if comp.artifact.url_key else ""
        if not url and not find_artifacts(comp, ctx.packages_dir):
            return f"no {comp.artifact.glob} in {ctx.packages_dir}"
    return ""


def _artifact_hint(comp: Component) -> str:
    if not comp.artifact:
        return ""
    hint = f"put {comp.artifact.glob} ({comp.artifact.what or 'the vendor package'}) in packages/"
    if comp.artifact.url_key:
        hint += f" or set {comp.artifact.url_key} in .env"
    return hint


def check_ports(config: LabConfig, components: list[Component]) -> list[tuple[Component, str, int, str]]:
    """Published (component, key, port, proto) for the selection; ConfigError on duplicates."""
    return [(p.component, p.key, p.port, p.proto) for p in published_ports(config, components)]


def render(ctx: LabContext, config: LabConfig, selection: Selection) -> RenderResult:
    return render_lab(config, selection.components, ctx.lab_dir, ctx.packages_dir)


def docker_target(ctx: LabContext, config: LabConfig) -> DockerTarget:
    return DockerTarget(config, ctx.lab_dir, ctx.runner, detect_compose(ctx.runner))


def up(
    ctx: LabContext,
    names: list[str],
    *,
    on_update: Callable[[list[ServiceState], float], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    rebuild: bool = False,
) -> UpResult:
    step = on_step or (lambda _msg: None)
    config = load_config(ctx)
    wanted = select(ctx, config, names)
    previous = LabState.load(ctx)
    require_local(previous, "up")  # one lab per folder: do not lose track of the remote one
    # The compose file holds every service the lab runs, so `lab up jdbc` keeps ldap running.
    active = set(wanted.services) | set(previous.services if previous else [])
    selection = Selection(
        [c for c in load_catalog() if c.service in active and not unavailable(ctx, config, c)],
        wanted.skipped,
    )
    published = check_ports(config, selection.components)

    docker_client()  # engine reachable, or a clear error before anything changes
    target = docker_target(ctx, config)
    held = target.held_ports()
    busy = [
        Problem(
            f"host port {port} ({key}) is already in use on {config.core.bind}",
            f"stop what uses it or set {key} to a free port in .env",
        )
        for comp, key, port, proto in published
        if comp.service in wanted.services and port not in held and port_in_use(config.core.bind, port, proto)
    ]
    if busy:
        raise PreflightError(*busy)

    step("rendering the lab into .lab/")
    rendered = render(ctx, config, selection)
    for comp in selection.components:
        (ctx.data_dir / comp.service).mkdir(parents=True, exist_ok=True)
    step("building images that changed")
    built = target.build(wanted.components, rendered.images, force=rebuild)
    step("starting services")
    target.up(wanted.components)
    step("waiting for health checks")
    states = target.wait_healthy(wanted.services, config.core.health_timeout, on_update)
    LabState(
        target="docker",
        project=config.core.project,
        services=selection.services,
        images=rendered.images,
        config=config.env_values(redact=True),
        compose=f"{target.compose.variant} {target.compose.version}",
    ).save(ctx)
    return UpResult(wanted, rendered, built, states)


def current(ctx: LabContext) -> tuple[LabConfig, LabState]:
    """Config and state of a lab that was brought up; clear error if there is none."""
    config = load_config(ctx)
    state = LabState.load(ctx)
    if state is None:
        raise TargetError(Problem("this lab has not been started here", "run `lab up` first"))
    return config, state


def remote_lab(ctx: LabContext, state: LabState | None) -> RemoteLab | None:
    """The remote lab `lab up --host` recorded in `.lab/lab.json`, if this lab is one."""
    from lab.targets.remote import RemoteLab

    return RemoteLab.from_state(ctx, state) if state else None


def require_local(state: LabState | None, command: str) -> None:
    """Refuse `command` (which works on the local engine) in a folder whose lab runs remotely."""
    if state and state.remote:
        host = state.remote["target"]["name"]
        raise UsageError(
            Problem(
                f"this lab runs on {host} (`lab up --host`); `lab {command}` works on local labs",
                f"`lab up --host {host}` updates it there; `lab destroy` removes it first",
            )
        )


def down(ctx: LabContext) -> None:
    config, state = current(ctx)
    remote = remote_lab(ctx, state)
    if remote:
        with remote:
            remote.down()
        return
    docker_target(ctx, config).down()


def destroy(ctx: LabContext) -> list[str]:
    """Remove containers, networks, volumes and the persistent data. Returns what was removed."""
    import shutil

    config = load_config(ctx)
    removed = []
    remote = remote_lab(ctx, LabState.load(ctx))
    if remote:
        with remote:
            remote.destroy()
        removed.append(f"containers and {remote.directory} on {remote.target.name}")
    elif (ctx.lab_dir / "compose.yml").exists():
        docker_target(ctx, config).destroy()
        removed.append("containers")
    for path in (ctx.data_dir, ctx.lab_dir):
        if path.exists():
            shutil.rmtree(path)
            removed.append(str(path.relative_to(ctx.root)) + "/")
    return removed


def status(ctx: LabContext) -> list[ServiceState]:
    config, state = current(ctx)
    remote = remote_lab(ctx, state)
    if remote:
        with remote:
            return remote.states(state.services)
    return docker_target(ctx, config).states(state.services)
