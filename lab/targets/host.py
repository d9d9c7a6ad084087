"""The native target: converge bare hosts with the stack playbooks, verify them over SSH.

The steps (`lab.pipeline.host_up` runs them in order): `plan` (config, inventory, every group a
stack uses has hosts, every role exists) → `preflight` (every host answers over SSH and runs a
supported OS; read-only) → `render` (`.lab/` content and `.lab/host/`) → `converge` (each stack
playbook). `HostTarget` is the Target protocol over the hosts a rendered `.lab/host/targets.json`
names: unit states, journals, generated files and commands, over SSH.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lab.catalog import Catalog, Component, load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import ConfigError, Problem, TargetError, UsageError
from lab.host.inventory import Inventory, SshTarget, load_inventory
from lab.host.playbooks import StackPlaybook, available_stacks, load_stack, missing_roles
from lab.host.render import HostFiles, host_files, render_host
from lab.runner import CommandRunner
from lab.selection import Selection, select
from lab.state import LabState, NativeHosts, TargetRecord
from lab.targets.base import OnUpdate, ServiceState
from lab.verify import VerifyReport

if TYPE_CHECKING:
    from lab.host.ansible import RunSummary, TaskEvent
    from lab.host.ssh import HostOs, SshRunner

_ABSENT = 3  # exit status of a file read when the file does not exist


@dataclass(frozen=True)
class HostPlan:
    config: LabConfig
    inventory: Inventory
    stacks: tuple[StackPlaybook, ...]
    targets: tuple[SshTarget, ...]


def default_inventory(ctx: LabContext) -> Path:
    return ctx.root / "inventory.ini"


def host_dir(ctx: LabContext) -> Path:
    return ctx.lab_dir / "host"


def plan(
    ctx: LabContext, stacks: list[str], inventory_path: Path | None = None, *, need_roles: bool = True
) -> HostPlan:
    """Validate everything that can be validated without touching a host."""
    config = LabConfig.from_env(ctx.env_path)
    names = stacks or [s for s in config.core.stack_list if s in available_stacks()]
    books = [load_stack(s) for s in names]
    inventory = load_inventory(inventory_path or default_inventory(ctx))
    problems: list[Problem] = []
    for book in books:
        for role in missing_roles(book) if need_roles else []:
            problems.append(
                Problem(
                    f"stack {book.stack} needs role {role}, which is not in roles/",
                    "that role is not written yet",
                )
            )
        for group in book.groups:
            if not inventory.hosts_in(group):
                problems.append(
                    Problem(
                        f"group [{group}] used by stack {book.stack} has no hosts in {inventory.path}",
                        f"add a host under [{group}] (see inventory.example.ini)",
                    )
                )
    if problems:
        raise ConfigError(*problems)
    hosts: list[str] = []
    for book in books:
        for group in book.groups:
            hosts.extend(h for h in inventory.hosts_in(group) if h not in hosts)
    return HostPlan(config, inventory, tuple(books), tuple(inventory.target(h) for h in hosts))


def preflight(ctx: LabContext, host_plan: HostPlan, known_hosts: Path | None = None) -> dict[str, HostOs]:
    """Reach every SSH host and check its OS; read-only (`known_hosts`: a copy, in a dry run)."""
    from lab.host.ssh import check_hosts

    ssh = [t for t in host_plan.targets if t.connection in ("ssh", "paramiko", "paramiko_ssh")]
    return check_hosts(ssh, known_hosts or ctx.known_hosts) if ssh else {}


def content(ctx: LabContext, host_plan: HostPlan, catalog: Catalog | None = None) -> list[Component]:
    """The components whose content files (`.lab/`: LDIF, SQL, configs) the stacks' roles copy."""
    catalog = catalog or load_catalog()
    names = [b.stack for b in host_plan.stacks if b.stack in catalog.stacks]
    wanted = select(ctx, host_plan.config, names, catalog) if names else Selection([])
    previous = LabState.load(ctx)
    keep = set(wanted.services) | set(previous.services if previous else [])
    return [c for c in catalog if c.service in keep]


def render(ctx: LabContext, host_plan: HostPlan, out: Path | None = None) -> HostFiles:
    """Render the stacks' content files into `.lab/` (what the roles copy) and `.lab/host/`.

    `out` replaces `.lab/` (a dry run renders into a scratch folder)."""
    from lab.render import render_lab

    lab_dir = out or ctx.lab_dir
    comps = content(ctx, host_plan)
    if comps:
        render_lab(host_plan.config, comps, lab_dir, ctx.packages_dir)
    return render_host(host_plan.config, host_plan.inventory, lab_dir / "host", lab_dir, ctx.packages_dir)


def converge(
    files: HostFiles,
    host_plan: HostPlan,
    runner: CommandRunner,
    *,
    check: bool = False,
    on_event: Callable[[TaskEvent], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[RunSummary]:
    """Run each stack playbook (ansible-runner, for its per-task events); stop at the first failure.

    In a dry run the runner only shows the equivalent `ansible-playbook` command of each."""
    from lab.host.ansible import run_playbook

    step = on_step or (lambda _m: None)
    summaries = []
    for book in host_plan.stacks:
        if runner.dry_run:
            runner.run(ansible_playbook_command(files, book.path, check=check))
            continue
        step(f"{'checking' if check else 'converging'} stack {book.stack} ({book.path.name})")
        summary = run_playbook(files, book.path, check=check, on_event=on_event)
        summaries.append(summary)
        if not summary.ok:
            break
    return summaries


def host_verify(
    ctx: LabContext,
    stacks: list[str],
    *,
    inventory_path: Path | None = None,
    junit: Path | None = None,
) -> VerifyReport:
    """Run tests/infra against the hosts (testinfra over SSH with paramiko).

    The `lab` fixture reads `.lab/host/targets.json` (which host runs which service) when
    LAB_TARGET is `host`.
    """
    from lab.verify import run_checks

    host_plan = plan(ctx, stacks, inventory_path, need_roles=False)
    preflight(ctx, host_plan)
    render_host(host_plan.config, host_plan.inventory, host_dir(ctx), ctx.lab_dir, ctx.packages_dir)
    return run_checks(ctx, [b.stack for b in host_plan.stacks], [], target="host", junit=junit)


def ansible_playbook_command(files: HostFiles, playbook: Path, check: bool = False) -> list[str]:
    """The plain command equivalent to a `lab host up` run (shown by `lab host up --dry-run`)."""
    return [
        "env",
        f"ANSIBLE_CONFIG={files.ansible_cfg}",
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(files.inventory),
        *(["--check", "--diff"] if check else []),
        str(playbook),
    ]


def run_plain(files: HostFiles, playbook: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(files.ansible_cfg)}
    return subprocess.run(
        ansible_playbook_command(files, playbook)[2:],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


class HostTarget:
    """The Target protocol on native hosts: one SSH session per host that runs a service.

    Services are systemd units (named as the service, or with `_` for `-`); generated files live
    in the service's `host_data` folder (its component.yaml), read with `sudo -n` when the SSH
    user is not root. Starting and stopping is Ansible's (`lab host up`): `up`, `down` and `reset`
    say so.
    """

    def __init__(self, record: NativeHosts, services: dict[str, SshTarget], known_hosts: Path, dry_run: bool) -> None:
        self.record: TargetRecord = record
        self.services = services
        self.known_hosts = known_hosts
        self.dry_run = dry_run
        self._runners: dict[SshTarget, SshRunner] = {}
        self._catalog = {c.service: c for c in load_catalog()}

    @classmethod
    def from_rendered(cls, ctx: LabContext, record: NativeHosts | None = None) -> HostTarget:
        """From `.lab/host/targets.json` (which host runs which service), written by `render`."""
        path = host_files(host_dir(ctx)).targets
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            data = {"services": {}}
        except (OSError, ValueError) as exc:
            raise ConfigError(Problem(f"cannot read {path}: {exc}", "run `lab host render` again")) from None
        services = {name: SshTarget(**t) for name, t in data.get("services", {}).items()}
        record = record or NativeHosts(str(data.get("inventory", default_inventory(ctx))))
        return cls(record, services, ctx.known_hosts, ctx.dry_run)

    @property
    def runner(self) -> CommandRunner:
        """The runner of the first host (the protocol's; per-service calls pick their own)."""
        if not self.services:
            raise UsageError(Problem("no inventory host runs a service of this lab", "run `lab host up`"))
        return self._runner(next(iter(self.services)))

    def _runner(self, service: str) -> SshRunner:
        from lab.host.ssh import SshRunner

        target = self.services.get(service)
        if target is None:
            raise UsageError(Problem(f"no inventory host runs {service}", "see `lab host render` and the inventory"))
        if target not in self._runners:
            self._runners[target] = SshRunner(target, self.known_hosts, dry_run=self.dry_run)
        return self._runners[target]

    def _not_here(self, what: str) -> UsageError:
        return UsageError(
            Problem(f"`lab {what}` works on Docker labs; this one runs on native hosts", "use `lab host up`")
        )

    def build(self, components: list[Component], images: dict[str, str], force: bool = False) -> list[str]:
        return []

    def up(self, components: list[Component]) -> None:
        raise self._not_here("up")

    def down(self) -> None:
        raise self._not_here("down")

    def reset(self, services: list[str]) -> None:
        raise self._not_here("reset")

    def destroy(self) -> list[str]:
        """Nothing on the hosts (no role uninstalls); `lab destroy` removes the local files."""
        return []

    def wait(self, services: list[str], timeout: float, on_update: OnUpdate | None = None) -> list[ServiceState]:
        return self.states(services)

    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        out = []
        for service in services if services is not None else sorted(self.services):
            if service not in self.services:
                out.append(ServiceState(service, "", "missing", "none"))
                continue
            r = self._runner(service).query(["systemctl", "is-active", *self._units(service)], timeout=30)
            active = "active" in r.stdout.split()
            out.append(ServiceState(service, self.services[service].name, "running" if active else "stopped", "none"))
        return out

    def logs(self, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
        names = [service] if service else sorted(self.services)
        code = 0
        for name in names:
            units = [a for u in self._units(name) for a in ("-u", u)]
            args = ["journalctl", *units, "-n", str(int(tail)), "--no-pager", *(["-f"] if follow else [])]
            code = self._runner(name).stream(self._sudo(name, args), write) or code
        return code

    def exec(self, service: str, cmd: list[str], environment: dict[str, str] | None = None) -> tuple[int, bytes]:
        env = environment or {}
        r = self._runner(service).query(cmd, env=env, timeout=120)
        return r.returncode, (r.stdout + r.stderr).encode()

    def container(self, service: str) -> str | None:
        target = self.services.get(service)
        return target.name if target else None

    def _path(self, rel: str) -> tuple[str, str]:
        service, _, name = rel.partition("/")
        comp = self._catalog.get(service)
        if comp is None or not comp.host_data or service not in self.services:
            raise UsageError(Problem(f"{service} keeps no generated files on a native host"))
        return service, f"{comp.host_data.rstrip('/')}/{name}"

    def _read(self, rel: str, command: str) -> str | None:
        service, path = self._path(rel)
        quoted = shlex.quote(path)
        args = self._sudo(service, ["sh", "-c", f"test -e {quoted} || exit {_ABSENT}; {command} {quoted}"])
        r = self._runner(service).query(args, timeout=30)
        if r.returncode == _ABSENT:
            return None
        if not r.ok:
            raise TargetError(
                Problem(
                    f"cannot read {path} on {self.services[service].label}: "
                    f"{r.stderr.strip() or f'exit {r.returncode}'}",
                    "give the inventory's SSH user root or passwordless sudo on that host",
                )
            )
        return r.stdout

    def read_file(self, rel: str) -> str | None:
        out = self._read(rel, "cat")
        return None if out is None else out.strip()

    def file_mode(self, rel: str) -> int | None:
        out = self._read(rel, "stat -c %a")
        return None if out is None else int(out.strip(), 8)

    def file_where(self, rel: str) -> str:
        service, path = self._path(rel)
        return f"{self.services[service].name}:{path}"

    def has_file(self, rel: str) -> bool:
        """True when `rel` lives on a host (its service runs there and keeps generated files)."""
        service = rel.partition("/")[0]
        comp = self._catalog.get(service)
        return bool(comp and comp.host_data and service in self.services)

    def _sudo(self, service: str, args: list[str]) -> list[str]:
        return args if self.services[service].user == "root" else ["sudo", "-n", *args]

    @staticmethod
    def _units(service: str) -> list[str]:
        return list(dict.fromkeys([service, service.replace("-", "_")]))

    def close(self) -> None:
        for runner in self._runners.values():
            runner.close()
        self._runners.clear()


__all__ = ["HostPlan", "HostTarget", "TargetError", "converge", "host_verify", "plan", "preflight", "render"]
