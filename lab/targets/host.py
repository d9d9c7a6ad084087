"""The native target: converge bare hosts with the stack playbooks, verify them over SSH.

The steps (`lab.pipeline.host_up` runs them in order): `plan` (config, inventory, every group a
stack uses has hosts, every role exists) → `preflight` (every host answers over SSH and runs a
supported OS; read-only) → `render` (`.lab/` content and `.lab/host/`) → `converge` (each stack
playbook). `HostTarget` is the Target protocol over the hosts a rendered `.lab/host/targets.json`
names: unit states, journals, generated files and commands, over SSH.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from lab.host.become import NONE, Become
from lab.host.inventory import Inventory, SshTarget, load_inventory
from lab.host.playbooks import StackPlaybook, available_stacks, load_stack, missing_roles
from lab.host.render import HostFiles, host_files, render_host
from lab.runner import CommandRunner, Result
from lab.selection import Selection, select
from lab.state import LabState, NativeHosts, TargetRecord
from lab.targets.base import OnUpdate, ServiceState
from lab.verify import VerifyReport

if TYPE_CHECKING:
    from lab.host.ansible import RunSummary, TaskEvent
    from lab.host.ssh import HostOs, SshRunner

_ABSENT = 3  # exit status of a file read when the file does not exist
_BECOME_ENV = "LAB_BECOME_PASSWORD_FILE"


@dataclass(frozen=True)
class HostPlan:
    config: LabConfig
    inventory: Inventory
    stacks: tuple[StackPlaybook, ...]
    targets: tuple[SshTarget, ...]
    become: Become = NONE

    def passwords(self) -> dict[str, str | None]:
        """The sudo password of each host (its inventory's `ansible_become_password`, else `become`)."""
        return {t.name: self.become.for_host(self.inventory.host_vars(t.name)) for t in self.targets}


def recorded_become(ctx: LabContext, become: Become = NONE) -> Become:
    """`become`, or else the password file an earlier `lab host up` was given (its path is kept in
    `.lab/host/targets.json`) or `$LAB_BECOME_PASSWORD_FILE`."""
    from lab.host import become as become_mod

    if become.password is not None:
        return become
    if os.environ.get(become_mod.ENV):
        return become_mod.load()
    try:
        recorded = json.loads(host_files(host_dir(ctx)).targets.read_text()).get("become_password_file")
    except (OSError, ValueError):
        return become
    return become_mod.load(Path(recorded)) if recorded else become


def default_inventory(ctx: LabContext) -> Path:
    return ctx.root / "inventory.ini"


def host_dir(ctx: LabContext) -> Path:
    return ctx.lab_dir / "host"


#: connections `lab` checks before a run (SSH reachability, OS, sudo)
SSH_CONNECTIONS = ("ssh", "paramiko", "paramiko_ssh")


def plan(
    ctx: LabContext,
    stacks: list[str],
    inventory_path: Path | None = None,
    *,
    need_roles: bool = True,
    become: Become = NONE,
    allow_local: bool = False,
) -> HostPlan:
    """Validate everything that can be validated without touching a host.

    A host whose `ansible_connection` is not SSH (e.g. `local`: the play would change this
    machine, unchecked) is refused unless `allow_local` or its `lab_allow_local=true`."""
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
    hosts: list[str] = []
    for book in books:
        for group in book.groups:
            hosts.extend(h for h in inventory.hosts_in(group) if h not in hosts)
    targets = tuple(inventory.target(h) for h in hosts)
    for t in targets:
        allowed = allow_local or inventory.host_vars(t.name).get("lab_allow_local", "").lower() in ("true", "yes", "1")
        if t.connection not in SSH_CONNECTIONS and not allowed:
            problems.append(
                Problem(
                    f"host {t.name} has ansible_connection={t.connection}: the play would run on this machine "
                    "without the SSH, OS and sudo checks",
                    "list it with an SSH address, or set lab_allow_local=true on its line (or pass --allow-local) "
                    "if you mean it",
                )
            )
    if problems:
        raise ConfigError(*problems)
    return HostPlan(config, inventory, tuple(books), targets, become)


def preflight(ctx: LabContext, host_plan: HostPlan, known_hosts: Path | None = None) -> dict[str, HostOs]:
    """Reach every SSH host, check its OS and that its user becomes root (sudo, with the become
    password if it needs one); read-only (`known_hosts`: a copy, in a dry run)."""
    from lab.host.ssh import check_hosts

    ssh = [t for t in host_plan.targets if t.connection in SSH_CONNECTIONS]
    return check_hosts(ssh, known_hosts or ctx.known_hosts, host_plan.passwords()) if ssh else {}


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
    return render_host(
        host_plan.config, host_plan.inventory, lab_dir / "host", lab_dir, ctx.packages_dir, host_plan.become.file
    )


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
    from lab.host.become import password_file

    step = on_step or (lambda _m: None)
    summaries: list[RunSummary] = []
    if runner.dry_run:
        for book in host_plan.stacks:
            runner.run(ansible_playbook_command(files, book.path, check=check, become=host_plan.become))
        return summaries
    with password_file(host_plan.become, files.root) as become_file:
        for book in host_plan.stacks:
            step(f"{'checking' if check else 'converging'} stack {book.stack} ({book.path.name})")
            summary = run_playbook(files, book.path, check=check, on_event=on_event, become_file=become_file)
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
    become: Become = NONE,
) -> VerifyReport:
    """Run tests/infra against the hosts (testinfra over SSH with paramiko).

    The `lab` fixture reads `.lab/host/targets.json` (which host runs which service) when
    LAB_TARGET is `host`. With LAB_BIND a wildcard, probes go to each host's inventory address;
    otherwise (the loopback default, or one address) through SSH tunnels to LAB_BIND on the
    service's host (`LAB_PROBE_ADDR`/`LAB_PROBE_PORTS` tell the fixture), so the default lab is
    verifiable without exposing it. When checks could not reach a service, `hints` says what to change.
    """
    from lab.host.ssh import connect
    from lab.host.tunnel import forward
    from lab.verify import run_checks

    become = recorded_become(ctx, become)
    host_plan = plan(ctx, stacks, inventory_path, need_roles=False, become=become)
    preflight(ctx, host_plan)
    files = render_host(
        host_plan.config, host_plan.inventory, host_dir(ctx), ctx.lab_dir, ctx.packages_dir, become.file
    )
    names = [b.stack for b in host_plan.stacks]
    cfg = host_plan.config
    if cfg.core.publishes_everywhere:
        report = run_checks(ctx, names, [], target="host", junit=junit)
        return _with_hints(report, cfg, tunnelled=False)
    placed = {name: SshTarget(**t) for name, t in json.loads(files.targets.read_text())["services"].items()}
    values = cfg.env_values()
    wanted: dict[SshTarget, list[tuple[str, int]]] = {}
    keys: dict[tuple[SshTarget, int], list[str]] = {}
    for comp in load_catalog():
        if comp.stack not in names or comp.service not in placed:
            continue
        for port in comp.ports:
            if port.proto != "tcp" or not values.get(port.key, "").isdigit():
                continue
            target, number = placed[comp.service], int(values[port.key])
            wanted.setdefault(target, []).append((cfg.core.bind, number))
            keys.setdefault((target, number), []).append(port.key)
    with contextlib.ExitStack() as stack:
        probe_ports: dict[str, int] = {}
        for target, remote in wanted.items():
            client = connect(target, ctx.known_hosts)
            stack.callback(client.close)
            for (_, number), local in stack.enter_context(forward(client, remote)).items():
                for key in keys[(target, number)]:
                    probe_ports[key] = local
        env = {"LAB_PROBE_ADDR": "127.0.0.1", "LAB_PROBE_PORTS": json.dumps(probe_ports)}
        report = run_checks(ctx, names, [], target="host", junit=junit, env=env)
    return _with_hints(report, cfg, tunnelled=True)


_UNREACHABLE = ("refused", "timed out", "timeout", "unreachable", "connection reset", "socket", "closed")


def _with_hints(report: VerifyReport, cfg: LabConfig, *, tunnelled: bool) -> VerifyReport:
    """Add what to change when a failed check could not reach a service."""
    failed = [r for r in report.results if r.outcome in ("failed", "error")]
    if not any(word in r.message.lower() for r in failed for word in _UNREACHABLE):
        return report
    if tunnelled:
        hint = (
            f"some checks could not reach a service through the SSH tunnel to {cfg.core.bind} on its host: "
            "see `lab status` and `lab logs SERVICE` (is it running and listening on LAB_BIND?)"
        )
    else:
        hint = (
            f"some checks could not reach a service at the inventory address (LAB_BIND={cfg.core.bind}): "
            "open the lab's ports in the host's firewall, or set LAB_BIND=127.0.0.1, run `lab host up`, "
            "and verify through SSH"
        )
    return dataclasses.replace(report, hints=(*report.hints, hint))


def ansible_playbook_command(files: HostFiles, playbook: Path, check: bool = False, become: Become = NONE) -> list[str]:
    """The plain command equivalent to a `lab host up` run (shown by `lab host up --dry-run`).

    A become password appears as its file (`ANSIBLE_BECOME_PASSWORD_FILE`) or as
    `--ask-become-pass` (typed at a prompt), never as itself."""
    return [
        "env",
        f"ANSIBLE_CONFIG={files.ansible_cfg}",
        *([f"ANSIBLE_BECOME_PASSWORD_FILE={become.file}"] if become.file else []),
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(files.inventory),
        *(["--ask-become-pass"] if become.password is not None and become.file is None else []),
        *(["--check", "--diff"] if check else []),
        str(playbook),
    ]


def run_plain(files: HostFiles, playbook: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(files.ansible_cfg)}
    return subprocess.run(
        [a for a in ansible_playbook_command(files, playbook)[1:] if not a.startswith("ANSIBLE_")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


class HostTarget:
    """The Target protocol on native hosts: one SSH session per host that runs a service.

    Services are systemd units (`host_unit` in their component.yaml, default the service name);
    generated files live in the service's `host_data` folder. Everything that needs root runs
    through `sudo` when the SSH user is not root: `sudo -n`, or `sudo -S` with the become password
    (`lab.host.become`: `$LAB_BECOME_PASSWORD_FILE`, or the file `lab host up` was given) on stdin.
    `up`/`down` start/stop the units (with the further `host_units` that are installed);
    `destroy` stops them all and removes what the roles installed (`host_purge` packages,
    `host_remove` paths); installing and updating is `lab host up`'s.
    """

    def __init__(
        self,
        record: NativeHosts,
        services: dict[str, SshTarget],
        known_hosts: Path,
        dry_run: bool,
        become: Become = NONE,
        runner: CommandRunner | None = None,
    ) -> None:
        self.record: TargetRecord = record
        self.services = services
        self.known_hosts = known_hosts
        self.dry_run = dry_run
        self.become = become
        self._local = runner
        self._runners: dict[SshTarget, SshRunner] = {}
        self._catalog = {c.service: c for c in load_catalog()}

    @classmethod
    def from_rendered(cls, ctx: LabContext, record: NativeHosts | None = None) -> HostTarget:
        """From `.lab/host/targets.json` (which host runs which service), written by `render`."""
        from lab.host import become as become_mod

        path = host_files(host_dir(ctx)).targets
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            data = {"services": {}}
        except (OSError, ValueError) as exc:
            raise ConfigError(Problem(f"cannot read {path}: {exc}", "run `lab host render` again")) from None
        services = {name: SshTarget(**t) for name, t in data.get("services", {}).items()}
        record = record or NativeHosts(str(data.get("inventory", default_inventory(ctx))))
        recorded = data.get("become_password_file")
        become = become_mod.load(Path(recorded) if recorded and not os.environ.get(become_mod.ENV) else None)
        return cls(record, services, ctx.known_hosts, ctx.dry_run, become, ctx.runner)

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

    def unit(self, service: str) -> str:
        """The systemd unit of `service` on its host."""
        comp = self._catalog.get(service)
        return (comp.host_unit if comp and comp.host_unit else "") or service

    def _hosts(self, services: list[str]) -> dict[SshTarget, list[str]]:
        """Services grouped by the host that runs them, in order; those no host runs left out."""
        out: dict[SshTarget, list[str]] = {}
        for s in services:
            if s in self.services:
                out.setdefault(self.services[s], []).append(s)
        return out

    def extra_units(self, service: str) -> tuple[str, ...]:
        """Further units of `service` (`host_units`), some installed only with a setting."""
        comp = self._catalog.get(service)
        return comp.host_units if comp else ()

    def _systemctl(self, verb: str, services: list[str]) -> None:
        for _, names in self._hosts(services).items():
            units = [self.unit(s) for s in names]
            self._as_root(names[0], ["systemctl", verb, *units], change=True)
            extra = [u for s in names for u in self.extra_units(s)]
            if extra:  # 5: "not loaded", an optional unit this lab did not install
                self._as_root(names[0], ["systemctl", verb, *extra], change=True, ok=(0, 5))

    def up(self, components: list[Component]) -> None:
        """Start the components' units (after `lab down`); installing them is `lab host up`'s."""
        self._systemctl("start", [c.service for c in components if c.service in self.services])

    def down(self) -> None:
        """Stop every unit of the lab (dependents first); their data stays."""
        order = [c.service for c in self._catalog.values() if c.service in self.services]
        self._systemctl("stop", [s for s in reversed(order) if self._installed(s)])

    def reset(self, services: list[str]) -> None:
        raise self._not_here("reset")

    def destroy(self) -> list[str]:
        """Stop the units, purge the packages and remove the paths the roles installed, per host.

        What was removed, as `host:path` / `host:package` lines for people."""
        removed: list[str] = []
        order = [c for c in reversed(list(self._catalog.values())) if c.service in self.services]
        for target, names in self._hosts([c.service for c in order]).items():
            comps = [self._catalog[n] for n in names]
            units = [u for n in names for u in (*self.extra_units(n), self.unit(n))]
            purge = [p for c in comps for p in c.host_purge]
            paths = [p for c in comps for p in c.host_remove]
            script = (
                f"systemctl disable --now {' '.join(map(shlex.quote, units))} 2>/dev/null; "
                + (
                    "installed=$(dpkg-query -W -f='${db:Status-Status} ${Package}\\n' "
                    + " ".join(map(shlex.quote, purge))
                    + " 2>/dev/null | awk '$1 != \"not-installed\" {print $2}'); "
                    '[ -z "$installed" ] || DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $installed >/dev/null; '
                    if purge
                    else ""
                )
                + f"rm -rf {' '.join(map(shlex.quote, paths))}; systemctl daemon-reload; systemctl reset-failed || true"
            )
            self._as_root(names[0], ["sh", "-c", script], change=True, timeout=600)
            removed += [f"{target.name}:{p}" for p in [*purge, *paths]]
        return removed

    def wait(self, services: list[str], timeout: float, on_update: OnUpdate | None = None) -> list[ServiceState]:
        """Poll the units until every one is active (the roles wait for readiness themselves)."""
        import time

        started = time.monotonic()
        while True:
            states = self.states(services)
            if on_update:
                on_update(states, time.monotonic() - started)
            if self.dry_run or all(s.ready or s.state == "missing" for s in states):
                return states
            if time.monotonic() - started > timeout:
                bad = [s for s in states if not s.ready]
                raise TargetError(
                    *(
                        Problem(
                            f"{s.service} ({self.unit(s.service)} on {self.services[s.service].name}) is {s.state}"
                            f"{f' ({s.detail})' if s.detail else ''} after {timeout:.0f}s",
                            f"see `lab logs {s.service}`",
                        )
                        for s in bad
                    )
                )
            time.sleep(1)

    def _show(self, service: str) -> dict[str, str]:
        unit = self.unit(service)
        r = self._runner(service).query(
            ["systemctl", "show", "-p", "LoadState", "-p", "ActiveState", "-p", "SubState", "-p", "Result", unit],
            timeout=30,
        )
        return dict(line.partition("=")[::2] for line in r.stdout.splitlines() if "=" in line)

    def _installed(self, service: str) -> bool:
        return self._show(service).get("LoadState", "not-found") != "not-found"

    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        """Per service, from systemd: running (active), stopped (inactive), failed, missing (no unit)."""
        out = []
        for service in services if services is not None else sorted(self.services):
            if service not in self.services:
                out.append(ServiceState(service, "", "missing", "none"))
                continue
            props = self._show(service)
            where = f"{self.services[service].name}:{self.unit(service)}"
            active = props.get("ActiveState", "unknown")
            if props.get("LoadState", "not-found") == "not-found":
                state, detail = "missing", "not installed (run `lab host up`)"
            else:
                state = {"active": "running", "inactive": "stopped", "activating": "starting"}.get(active, active)
                detail = "" if active == "active" else f"{props.get('SubState', '')} ({props.get('Result', '')})"
            out.append(ServiceState(service, where, state, "none", detail))
        return out

    def logs(self, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
        names = [service] if service else sorted(self.services)
        code = 0
        for name in names:
            args = [
                "journalctl",
                "-u",
                self.unit(name),
                "-n",
                str(int(tail)),
                "--no-pager",
                *(["-f"] if follow else []),
            ]
            args, feed = self._sudo(name, args)
            code = self._runner(name).stream(args, write, input=feed) or code
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
        r = self._as_root(
            service,
            ["sh", "-c", f"test -e {quoted} || exit {_ABSENT}; {command} {quoted}"],
            ok=(0, _ABSENT),
            what=f"cannot read {path}",
        )
        return None if r.returncode == _ABSENT else r.stdout

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

    def _sudo(self, service: str, args: list[str]) -> tuple[list[str], str | None]:
        """`args` as root on the service's host, and what to feed sudo on stdin (the password)."""
        target = self.services[service]
        if target.user == "root":
            return args, None
        if self.become.password is not None:
            return ["sudo", "-S", "-p", "", *args], self.become.password + "\n"
        return ["sudo", "-n", *args], None

    def _as_root(
        self,
        service: str,
        args: list[str],
        *,
        change: bool = False,
        ok: tuple[int, ...] = (0,),
        timeout: float = 120,
        what: str = "",
    ) -> Result:
        """Run `args` as root (see `_sudo`); one TargetError naming the host when it fails.

        `change`: only shown in a dry run."""
        argv, feed = self._sudo(service, args)
        runner = self._runner(service)
        r = (runner.run if change else runner.query)(argv, check=False, input=feed, timeout=timeout)
        if r.returncode in ok:
            return r
        target = self.services[service]
        err = r.stderr.strip()
        what = what or f"{shlex.join(args)[:80]} failed"
        if "password is required" in err:
            raise TargetError(
                Problem(
                    f"{what} on {target.label}: sudo there needs a password",
                    f"set {_BECOME_ENV} to a file (mode 0600) holding the password, or give "
                    f"{target.user} passwordless sudo",
                )
            )
        why = err.splitlines()[-1] if err else f"exit {r.returncode}"
        raise TargetError(
            Problem(
                f"{what} on {target.label}: {why}",
                "log in as root, or give the inventory user passwordless sudo on that host" if "sudo" in err else "",
            )
        )

    def close(self) -> None:
        for runner in self._runners.values():
            runner.close()
        self._runners.clear()


__all__ = ["HostPlan", "HostTarget", "TargetError", "converge", "host_verify", "plan", "preflight", "render"]
