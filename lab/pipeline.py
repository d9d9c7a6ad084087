"""The table of contents: load -> validate -> select -> pick the target -> render -> deliver -> build
-> bring up -> wait -> record.

Every command that touches a lab goes through these functions; the CLI only parses and prints.
The target is picked once, from `.lab/lab.json` (or `--host` for a new lab), and driven through
the `lab.targets.base.Target` protocol. A dry run renders into a scratch folder, pins host keys
in a scratch copy, shows every changing command and waits for nothing: nothing under `.lab/` or
`data/` is written.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lab.catalog import Component, load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import PreflightError, Problem, TargetError, UsageError
from lab.render import RenderResult, render_lab
from lab.selection import Selection, check_ports, select, unavailable, with_running
from lab.state import DockerLocal, DockerRemote, LabState, NativeHosts, TargetRecord
from lab.targets import open_target
from lab.targets.base import OnUpdate, ServiceState, Target
from lab.targets.docker import ComposeTarget, DockerTarget, docker_client, port_in_use

if TYPE_CHECKING:
    from lab.host.become import Become

__all__ = ["Selection", "check_ports", "select", "unavailable", "up", "down", "status", "logs", "reset", "destroy"]


@dataclass(frozen=True)
class UpResult:
    selection: Selection
    rendered: RenderResult
    built: list[str]
    states: list[ServiceState]
    record: TargetRecord = field(default_factory=DockerLocal)
    dry_run: bool = False
    tunnels: tuple[str, ...] = ()
    all_ports: str = ""
    seconds: float = 0.0


def load_config(ctx: LabContext) -> LabConfig:
    return LabConfig.from_env(ctx.env_path)


def render(ctx: LabContext, config: LabConfig, selection: Selection, out: Path | None = None) -> RenderResult:
    return render_lab(config, selection.components, out or ctx.lab_dir, ctx.packages_dir)


def docker_target(ctx: LabContext, config: LabConfig) -> DockerTarget:
    """The local Docker target (for commands that only exist there: backup, configure, jdbc apply)."""
    return DockerTarget(config, ctx.lab_dir, ctx.runner)


@contextlib.contextmanager
def scratch(ctx: LabContext) -> Iterator[tuple[Path, Path]]:
    """(folder to render into, known_hosts to pin keys in): `.lab/` itself, or copies in a dry run."""
    if not ctx.dry_run:
        yield ctx.lab_dir, ctx.known_hosts
        return
    with tempfile.TemporaryDirectory(prefix="lab-dry-run-") as tmp:
        known = Path(tmp) / "known_hosts"
        if ctx.known_hosts.exists():
            shutil.copyfile(ctx.known_hosts, known)
        yield Path(tmp) / "lab", known


def current(ctx: LabContext) -> tuple[LabConfig, LabState]:
    """Config and state of a lab that was brought up; clear error if there is none."""
    config = load_config(ctx)
    state = LabState.load(ctx)
    if state is None:
        host_files_without_state(ctx, "`lab status`, `lab down` and `lab destroy` then act on the hosts")
        raise TargetError(Problem("this lab has not been started here", "run `lab up` first"))
    return config, state


def host_files_without_state(ctx: LabContext, then: str) -> None:
    """UsageError when the folder has native-host files (`.lab/host/`, from `lab host render`,
    `lab host up --check` or a `lab host up` that did not finish) but no `.lab/lab.json`: no lab
    was recorded, and the commands must not fall through to this machine's Docker engine."""
    host_dir = ctx.lab_dir / "host"
    if ctx.state_file.exists() or not host_dir.is_dir():
        return
    where = _shown(ctx, host_dir)
    raise UsageError(
        Problem(
            f"found {where}/ (native-host files from `lab host render`, `lab host up --check` or a `lab host up` "
            f"that did not finish) but no {_shown(ctx, ctx.state_file)}: no lab was recorded in this folder",
            f"run `lab host up` to finish it ({then}); or, to forget the rendered files, "
            f"`rm -rf {_shown(ctx, ctx.lab_dir)}`",
        )
    )


def _shown(ctx: LabContext, path: Path) -> str:
    try:
        return str(path.relative_to(ctx.root))
    except ValueError:
        return str(path)


@contextlib.contextmanager
def opened(ctx: LabContext, config: LabConfig, state: LabState) -> Iterator[Target]:
    """The state's target, closed (its SSH sessions) at the end of the block."""
    with scratch(ctx) as (_, known):
        target = open_target(ctx, config, state.target, prefer=state.compose_variant, known_hosts=known)
        try:
            yield target
        finally:
            target.close()


def require_local(state: LabState | None, command: str) -> None:
    """Refuse `command` (which works on the local engine) in a folder whose lab runs elsewhere."""
    if state is None or isinstance(state.target, DockerLocal):
        return
    if isinstance(state.target, DockerRemote):
        host = state.target.host.name
        raise UsageError(
            Problem(
                f"this lab runs on {host} (`lab up --host`); `lab {command}` works on local labs",
                f"`lab up --host {host}` updates it there; `lab destroy` removes it first",
            )
        )
    raise UsageError(
        Problem(
            f"this lab runs on native hosts (`lab host up`); `lab {command}` works on Docker labs",
            "`lab host up` updates it; `lab destroy` forgets it first",
        )
    )


def _same_target(previous: LabState | None, record: TargetRecord, command: str) -> None:
    """One lab per folder: do not lose track of the one already recorded."""
    if previous is None or previous.target == record:
        return
    if isinstance(record, DockerLocal):
        require_local(previous, command)
    was = previous.target
    if isinstance(was, DockerRemote) and isinstance(record, DockerRemote) and was.host.address == record.host.address:
        return
    raise UsageError(
        Problem(
            f"this folder's lab runs on {was.where}; `lab {command}` would start another one",
            "`lab destroy` removes it first",
        )
    )


def up(
    ctx: LabContext,
    names: list[str],
    *,
    host: str = "",
    identity: Path | None = None,
    on_update: OnUpdate | None = None,
    on_step: Callable[[str], None] | None = None,
    rebuild: bool = False,
    become: Become | None = None,
) -> UpResult:
    """Bring the lab up here, or on `host` over SSH (`lab up --host`).

    `become`: the sudo password of the remote host's SSH user, if its sudo asks for one; the
    state records the file it came from (never the password)."""
    started = time.monotonic()
    step = on_step or (lambda _msg: None)
    config = load_config(ctx)
    wanted = select(ctx, config, names)
    previous = LabState.load(ctx)
    if not host and previous is not None and isinstance(previous.target, NativeHosts):
        return _start_native(ctx, config, previous, wanted, on_update, started)
    record: TargetRecord = DockerLocal()
    if host:
        from lab.targets.remote import parse_host, remote_directory

        ssh = parse_host(host, identity, ctx.root / "inventory.ini")
        kept = previous.target.become_file if previous and isinstance(previous.target, DockerRemote) else ""
        given = str(become.file) if become is not None and become.file else ""
        record = DockerRemote(ssh, remote_directory(config.core.project), become_file=given or kept)
    elif previous is not None and isinstance(previous.target, DockerRemote):
        record = previous.target  # `lab up` in a remote lab's folder: resume it on its host
        if become is not None and become.file:
            record = replace(record, become_file=str(become.file))
    _same_target(previous, record, "up")
    selection = with_running(ctx, config, wanted, previous.services if previous else [])
    published = check_ports(config, selection.components)
    if isinstance(record, DockerLocal):
        docker_client()  # engine reachable, or a clear error before anything changes
    with scratch(ctx) as (out, known):
        target = open_target(ctx, config, record, known_hosts=known, become=become)
        try:
            if isinstance(target, ComposeTarget):
                step(f"using compose {target.compose.variant}")  # detected now: no compose, nothing written
            if isinstance(record, DockerRemote):
                step(f"{target.check_engine()} answers on {record.host.name}")  # type: ignore[attr-defined]
            if isinstance(target, DockerTarget):
                _check_busy(config, target, published, wanted.services)
            if isinstance(target, ComposeTarget) and not ctx.dry_run:
                wanted, selection = _drop_unpullable(config, target, wanted, selection, step)
            step("rendering the lab" + (" (dry run: into a scratch folder)" if ctx.dry_run else " into .lab/"))
            rendered = render(ctx, config, selection, out)
            delivered, shipped = "", None  # what a remote host received (`lab.targets.remote.ShipResult`)
            if isinstance(record, DockerRemote):
                shipped = target.deliver(out, rendered.files)  # type: ignore[attr-defined]
                step(f"{shipped} to {record.host.name}:{record.directory}")
                delivered = str(shipped.digest)
            elif not ctx.dry_run:
                for comp in selection.components:
                    (ctx.data_dir / comp.service).mkdir(parents=True, exist_ok=True)
            step("building images that changed")
            built = target.build(wanted.components, rendered.images, force=rebuild)
            states = _still_up(target, previous, record, delivered, shipped, built, wanted.services)
            if states:
                step("nothing shipped or built, every service healthy: compose up skipped")
            else:
                step("starting services")
                target.up(wanted.components)
            if not ctx.dry_run:
                if not states:
                    step("waiting for health checks")
                    states = target.wait(wanted.services, config.core.health_timeout, on_update)
                    _post_up(target, wanted, step)
                compose = getattr(target, "compose", None)
                LabState(
                    target=record,
                    project=config.core.project,
                    services=selection.services,
                    images=rendered.images,
                    config=config.env_values(redact=True),
                    compose=f"{compose.variant} {compose.version}" if compose else "",
                    delivered=delivered,
                ).save(ctx)
        finally:
            target.close()
    tunnels: tuple[str, ...] = ()
    all_ports = ""
    if isinstance(record, DockerRemote):
        from lab.targets.remote import all_ports_tunnel, tunnel_commands

        tunnels = tuple(tunnel_commands(config, record.host, selection.services))
        all_ports = all_ports_tunnel(config, record.host, selection.services)
    return UpResult(
        wanted, rendered, built, states, record, ctx.dry_run, tunnels, all_ports, time.monotonic() - started
    )


def _still_up(
    target: Target,
    previous: LabState | None,
    record: TargetRecord,
    delivered: str,
    shipped: object,
    built: list[str],
    services: list[str],
) -> list[ServiceState]:
    """A remote lab that needs no `compose up`: the states of `services`, all healthy, when
    nothing was shipped or built and the last successful `lab up` there started these very
    files (`LabState.delivered`); [] otherwise (then compose runs as usual).

    `compose up -d` on an unchanged project recreates nothing but still costs seconds over SSH;
    a stopped or unhealthy container, a changed file or image, or a run that failed after
    shipping (its digest was never recorded) all take the full run."""
    if not isinstance(record, DockerRemote) or built or not delivered or not getattr(shipped, "nothing", False):
        return []
    if previous is None or previous.delivered != delivered or not set(services) <= set(previous.services):
        return []
    was = previous.target
    if not isinstance(was, DockerRemote) or (was.host.address, was.host.port, was.directory) != (
        record.host.address,
        record.host.port,
        record.directory,
    ):
        return []
    states = target.states(services)
    return states if all(s.ready for s in states) else []


def _drop_unpullable(
    config: LabConfig, target: ComposeTarget, wanted: Selection, selection: Selection, step: Callable[[str], None]
) -> tuple[Selection, Selection]:
    """Leave out the services whose third-party image the engine neither has nor can pull (no
    registry here): said once, as a skipped service; the rest of the lab starts."""
    gone: list[tuple[Component, str]] = []
    for comp in wanted.components:
        if not (comp.needs_registry and comp.image_key):
            continue
        image = config.env_values()[comp.image_key]
        step(f"{comp.service} uses {image}: checking the engine has it or can pull it")
        if not target.pull(image):
            gone.append(
                (
                    comp,
                    f"it needs a container registry: {image} is not in the engine and cannot be pulled here "
                    f"(`docker load` it, or run where a registry answers); starting the rest",
                )
            )
    if not gone:
        return wanted, selection
    names = {c.service for c, _ in gone}
    keep = [c for c in wanted.components if c.service not in names]
    return (
        Selection(keep, [*wanted.skipped, *gone]),
        Selection([c for c in selection.components if c.service not in names], selection.skipped),
    )


def _post_up(target: Target, wanted: Selection, step: Callable[[str], None]) -> None:
    """Run each healthy service's `post_up` command (idempotent configuration, e.g. GLPI's)."""
    for comp in wanted.components:
        if not comp.post_up:
            continue
        step(f"configuring {comp.service} ({' '.join(comp.post_up)})")
        rc, out = target.exec(comp.service, list(comp.post_up))
        if rc != 0:
            tail = out.decode(errors="replace").strip().splitlines()[-5:]
            raise TargetError(
                Problem(
                    f"{comp.service}: {comp.post_up[0]} failed (exit {rc}): {' | '.join(tail)}",
                    f"see `lab logs {comp.service}`; the command is safe to run again",
                )
            )


def _start_native(
    ctx: LabContext,
    config: LabConfig,
    state: LabState,
    wanted: Selection,
    on_update: OnUpdate | None,
    started: float,
) -> UpResult:
    """`lab up` in a folder whose lab runs on native hosts: start its units again (after `lab down`).

    Installing or changing what runs there stays `lab host up`'s."""
    names = [s for s in wanted.services if s in state.services] or list(state.services)
    comps = [c for c in load_catalog() if c.service in names]
    with opened(ctx, config, state) as target:
        target.up(comps)
        states = [] if ctx.dry_run else target.wait(names, config.core.health_timeout, on_update)
    selection = Selection(comps)
    rendered = RenderResult(ctx.lab_dir, ctx.lab_dir / "compose.yml", (), {}, ())
    return UpResult(selection, rendered, [], states, state.target, ctx.dry_run, seconds=time.monotonic() - started)


def destroy_question(ctx: LabContext) -> str:
    """What `lab destroy` asks before it removes anything, naming what it would remove where."""
    state = LabState.load(ctx)
    if state is None:
        host_files_without_state(ctx, "`lab destroy` then removes the lab from the hosts")
    if state is not None and isinstance(state.target, NativeHosts):
        return (
            f"Stop {', '.join(state.services) or 'the services'} on {state.target.where}, remove their packages "
            f"and data there, and remove {ctx.data_dir} and {ctx.lab_dir} here?"
        )
    return f"Remove every container and all data under {ctx.data_dir}?"


def _check_busy(
    config: LabConfig, target: DockerTarget, published: Sequence[tuple[object, str, int, str]], wanted: list[str]
) -> None:
    held = target.held_ports()
    busy = [
        Problem(
            f"host port {port} ({key}) is already in use on {config.core.bind}",
            f"stop what uses it or set {key} to a free port in .env",
        )
        for comp, key, port, proto in published
        if getattr(comp, "service", "") in wanted and port not in held and port_in_use(config.core.bind, port, proto)
    ]
    if busy:
        raise PreflightError(*busy)


def down(ctx: LabContext) -> TargetRecord:
    """Stop what runs (containers, or the units on native hosts); data stays. Where it ran."""
    config, state = current(ctx)
    with opened(ctx, config, state) as target:
        target.down()
    return state.target


def destroy(ctx: LabContext) -> list[str]:
    """Remove containers, networks, volumes and the persistent data. Returns what was removed."""
    config = load_config(ctx)
    state = LabState.load(ctx)
    if state is None:  # never a local `compose down` for a folder of native-host files
        host_files_without_state(ctx, "`lab destroy` then removes the lab from the hosts")
    removed: list[str] = []
    if state is not None:
        with opened(ctx, config, state) as target:
            removed += target.destroy()
    elif (ctx.lab_dir / "compose.yml").exists():
        removed += docker_target(ctx, config).destroy()
    for path in (ctx.data_dir, ctx.lab_dir):
        if path.exists():
            if not ctx.dry_run:
                shutil.rmtree(path)
            removed.append(str(path.relative_to(ctx.root)) + "/")
    return removed


def status(ctx: LabContext) -> list[ServiceState]:
    config, state = current(ctx)
    with opened(ctx, config, state) as target:
        return target.states(state.services)


def logs(ctx: LabContext, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
    """Stream the lab's logs (one service, or all) to `write`; the exit status of the log command."""
    config, state = current(ctx)
    if service and service not in state.services:
        raise UsageError(
            Problem(f"service {service!r} is not part of this lab", f"choose from {', '.join(state.services)}")
        )
    with opened(ctx, config, state) as target:
        return target.logs(service, tail, follow, write)


def reset_services(ctx: LabContext, stacks: list[str]) -> list[str]:
    """The services `lab reset STACKS` would reset (default: every one running); refuses remote labs."""
    _, state = current(ctx)
    require_local(state, "reset")
    catalog = load_catalog()
    comps = catalog.select(stacks) if stacks else [c for c in catalog if c.service in state.services]
    return [c.service for c in comps if c.service in state.services]


def reset(ctx: LabContext, services: list[str]) -> UpResult:
    """Remove the services' containers and data, then bring them up again (the golden state)."""
    config, state = current(ctx)
    with opened(ctx, config, state) as target:
        target.reset(services)
    return up(ctx, services)


def verify_target(state: LabState) -> str:
    """LAB_TARGET for the checks of tests/infra: `host` on native hosts, `docker` otherwise."""
    return "host" if isinstance(state.target, NativeHosts) else "docker"


def _refuse_postgresql_on_hosts(ctx: LabContext, stacks: list[str]) -> None:
    """Native hosts get MariaDB only (there is no roles/postgresql yet): one clear line, exit 2."""
    from lab.config import LabConfig

    config = LabConfig.from_env(ctx.env_path)
    names = stacks or list(config.core.stack_list)
    if config.jdbc.engine == "postgresql" and "jdbc" in names:
        raise UsageError(
            Problem(
                "JDBC_DATABASE=postgresql is not available on native hosts (`lab host up`) yet",
                "use the Docker target (`lab up jdbc`) or set JDBC_DATABASE=mariadb",
            )
        )


def host_up(
    ctx: LabContext,
    stacks: list[str],
    *,
    inventory_path: Path | None = None,
    check: bool = False,
    on_event: Callable[..., None] | None = None,
    on_step: Callable[[str], None] | None = None,
    become: Become | None = None,
    allow_local: bool = False,
) -> list[object]:
    """`lab host up`: plan -> preflight (SSH, OS, sudo) -> render -> converge each stack -> record.

    `become`: the sudo password for users whose sudo asks for one (`lab.host.become`)."""
    from lab.host.become import NONE
    from lab.targets import host

    _refuse_postgresql_on_hosts(ctx, stacks)
    step = on_step or (lambda _m: None)
    become = host.recorded_become(ctx, become or NONE)
    host_plan = host.plan(ctx, stacks, inventory_path, become=become, allow_local=allow_local)
    record = NativeHosts(str(host_plan.inventory.path.resolve()))
    previous = LabState.load(ctx)
    if previous is not None and not isinstance(previous.target, NativeHosts):
        _same_target(previous, record, "host up")
    with scratch(ctx) as (out, known):
        step(f"checking {len(host_plan.targets)} host(s) over SSH")
        host.preflight(ctx, host_plan, known)
        step("rendering .lab/ and .lab/host/" + (" (dry run: into a scratch folder)" if ctx.dry_run else ""))
        files = host.render(ctx, host_plan, out)
        summaries = host.converge(files, host_plan, ctx.runner, check=check, on_event=on_event, on_step=step)
    if not ctx.dry_run and not check and all(getattr(s, "ok", False) for s in summaries):
        target = host.HostTarget.from_rendered(ctx, record)
        try:  # the services the roles installed (e.g. no agent unit without its package)
            placed = [c.service for c in load_catalog() if c.service in target.services]
            services = [s.service for s in target.states(placed) if s.state != "missing"]
        finally:
            target.close()
        LabState(
            target=record,
            project=host_plan.config.core.project,
            services=services,
            config=host_plan.config.env_values(redact=True),
        ).save(ctx)
    return list(summaries)


def lab_target(ctx: LabContext, config: LabConfig | None = None) -> Target:
    """The target of this folder's lab: from `.lab/lab.json`; native hosts when only `lab host
    render|verify` ran (`.lab/host/targets.json`); this machine otherwise. Close it after use."""
    config = config or load_config(ctx)
    state = LabState.load(ctx)
    if state is not None:
        return open_target(ctx, config, state.target, prefer=state.compose_variant)
    if (ctx.lab_dir / "host" / "targets.json").exists():  # host rendering writes compose.yml too
        from lab.targets.host import HostTarget

        return HostTarget.from_rendered(ctx)
    return docker_target(ctx, config)
