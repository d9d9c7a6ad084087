"""The native target: converge bare hosts with the stack playbooks, verify them over SSH.

`host_up` is the table of contents: load the config and inventory → check every group a stack uses
has hosts, every role exists, every host answers over SSH and runs a supported OS (all before
anything changes anywhere) → render `.lab/` content and `.lab/host/` → run each stack playbook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import ConfigError, Problem, TargetError
from lab.host.ansible import RunSummary, TaskEvent, run_playbook
from lab.host.inventory import Inventory, SshTarget, load_inventory
from lab.host.playbooks import StackPlaybook, available_stacks, load_stack, missing_roles
from lab.host.render import HostFiles, render_host
from lab.host.ssh import HostOs, check_hosts
from lab.verify import VerifyReport


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


def preflight(ctx: LabContext, host_plan: HostPlan) -> dict[str, HostOs]:
    """Reach every SSH host and check its OS; read-only."""
    ssh = [t for t in host_plan.targets if t.connection in ("ssh", "paramiko", "paramiko_ssh")]
    return check_hosts(ssh, ctx.known_hosts) if ssh else {}


def render(ctx: LabContext, host_plan: HostPlan) -> HostFiles:
    """Render the stacks' content files into `.lab/` (what the roles copy) and `.lab/host/`."""
    from lab.pipeline import Selection, select
    from lab.pipeline import render as render_content
    from lab.state import LabState

    catalog = load_catalog()
    names = [b.stack for b in host_plan.stacks if b.stack in catalog.stacks]
    wanted = select(ctx, host_plan.config, names, catalog) if names else Selection([])
    previous = LabState.load(ctx)
    keep = set(wanted.services) | set(previous.services if previous else [])
    if keep:  # also what a Docker lab in this folder has, so its rendered files are not pruned
        render_content(ctx, host_plan.config, Selection([c for c in catalog if c.service in keep]))
    return render_host(host_plan.config, host_plan.inventory, host_dir(ctx), ctx.lab_dir, ctx.packages_dir)


def host_up(
    ctx: LabContext,
    stacks: list[str],
    *,
    inventory_path: Path | None = None,
    check: bool = False,
    on_event: Callable[[TaskEvent], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[RunSummary]:
    """Converge the stacks' hosts; stop at the first failed playbook (its summary is last)."""
    step = on_step or (lambda _m: None)
    host_plan = plan(ctx, stacks, inventory_path)
    step(f"checking {len(host_plan.targets)} host(s) over SSH")
    preflight(ctx, host_plan)
    step("rendering .lab/ and .lab/host/")
    files = render(ctx, host_plan)
    summaries = []
    for book in host_plan.stacks:
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


def ansible_playbook_command(files: HostFiles, playbook: Path) -> list[str]:
    """The plain command equivalent to a `lab host up` run (shown by `lab host up --dry-run`)."""
    return [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(files.inventory),
        str(playbook),
    ]


def run_plain(files: HostFiles, playbook: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(files.ansible_cfg)}
    return subprocess.run(
        ansible_playbook_command(files, playbook),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


__all__ = ["HostPlan", "TargetError", "host_up", "host_verify", "plan", "preflight", "render"]
