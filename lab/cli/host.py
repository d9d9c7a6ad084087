"""`lab host up|verify|render|prepare-docker`: bare hosts (Ansible) and the remote Docker host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lab.cli.common import console, err_console, lab_context, note, print_json
from lab.context import LabContext

app = typer.Typer(
    help="Bare hosts: converge with Ansible, verify over SSH, prepare a Docker host.",
    no_args_is_help=True,
)

_MARK = {
    "ok": "[green]ok[/green]",
    "changed": "[yellow]changed[/yellow]",
    "failed": "[red]FAILED[/red]",
    "unreachable": "[red]UNREACHABLE[/red]",
    "skipped": "[dim]skipped[/dim]",
    "ignored": "[dim]failed (ignored)[/dim]",
}


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="host")


Inventory = Annotated[
    Path | None,
    typer.Option("--inventory", "-i", help="Ansible INI inventory (default: DIR/inventory.ini)."),
]
Stacks = Annotated[list[str] | None, typer.Argument(help="Stacks (default: LAB_STACKS).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Identity = Annotated[Path | None, typer.Option("--identity", "-k", help="SSH private key file.")]
BecomeFile = Annotated[
    Path | None,
    typer.Option(
        "--become-password-file",
        help="File (mode 0600) holding the SSH users' sudo password (default: $LAB_BECOME_PASSWORD_FILE).",
    ),
]
AskBecome = Annotated[bool, typer.Option("--ask-become-pass", "-K", help="Ask for the SSH users' sudo password.")]


def become_password(file: Path | None, ask: bool, who: str = "the inventory users") -> Any:
    """The sudo password from a file or a prompt (`lab.host.become`), never from the command line."""
    import getpass

    from lab.host.become import load

    return load(file, ask, lambda: getpass.getpass(f"sudo password for {who}: "))


@app.command("up")
def up_cmd(
    ctx: typer.Context,
    stacks: Stacks = None,
    inventory: Inventory = None,
    check: Annotated[bool, typer.Option("--check", help="Show what would change only.")] = False,
    as_json: Json = False,
    become_file: BecomeFile = None,
    ask_become: AskBecome = False,
    allow_local: Annotated[
        bool, typer.Option("--allow-local", help="Accept hosts with ansible_connection=local (this machine).")
    ] = False,
) -> None:
    """Converge the hosts of STACKS with the Ansible roles, showing each task as it finishes."""
    from lab.host.ansible import TaskEvent
    from lab.pipeline import host_up

    lab = lab_context(ctx)

    def on_event(event: TaskEvent) -> None:
        if as_json or (event.status == "skipped"):
            return
        err_console.print(
            f"  {_MARK.get(event.status, event.status):<12} {event.host:<16} {event.task}",
            soft_wrap=True,
        )
        if check and event.diff:
            err_console.print(event.diff, markup=False, highlight=False)

    summaries: list[Any] = host_up(
        lab,
        stacks or [],
        inventory_path=inventory,
        check=check,
        on_event=on_event,
        on_step=lambda m: note(m),
        become=become_password(become_file, ask_become),
        allow_local=allow_local,
    )
    if lab.dry_run:
        console.print("dry run: the commands above would converge the hosts; nothing was written or changed")
        return
    if as_json:
        print_json(
            [
                {
                    "playbook": s.playbook,
                    "ok": s.ok,
                    "check": s.check,
                    "seconds": round(s.seconds, 2),
                    "hosts": [vars(h) for h in s.hosts],
                    "changes": [{"host": c.host, "task": c.task} for c in s.changes],
                    "failures": [{"host": f.host, "task": f.task, "message": f.message} for f in s.failures],
                }
                for s in summaries
            ]
        )
    else:
        for s in summaries:
            table = Table(
                "host",
                "ok",
                "changed",
                "failed",
                "unreachable",
                "skipped",
                title=f"{s.playbook} ({s.seconds:.1f}s)",
            )
            for h in s.hosts:
                table.add_row(
                    h.host,
                    str(h.ok),
                    str(h.changed),
                    str(h.failed),
                    str(h.unreachable),
                    str(h.skipped),
                )
            console.print(table)
    failed = [f for s in summaries for f in s.failures]
    for f in failed:
        err_console.print(
            f"error: {f.host}: task '{f.task}' {f.status}: {f.message}",
            markup=False,
            soft_wrap=True,
        )
    if failed or not all(s.ok for s in summaries):
        raise typer.Exit(1)
    if not as_json:
        what = "would change" if check else "changed"
        console.print(f"{what} {sum(s.changed for s in summaries)} task(s) in {len(summaries)} playbook(s)")


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    stacks: Stacks = None,
    inventory: Inventory = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML here.")] = None,
    as_json: Json = False,
    become_file: BecomeFile = None,
    ask_become: AskBecome = False,
) -> None:
    """Run the tests/infra checks against the hosts (testinfra over SSH)."""
    from lab.cli.verify import show_report
    from lab.targets.host import host_verify

    report = host_verify(
        lab_context(ctx),
        stacks or [],
        inventory_path=inventory,
        junit=junit,
        become=become_password(become_file, ask_become),
    )
    show_report(report, as_json)


@app.command("render")
def render_cmd(
    ctx: typer.Context,
    stacks: Stacks = None,
    inventory: Inventory = None,
) -> None:
    """Render .lab/host/ (inventory, group_vars, ansible.cfg) without touching any host."""
    from lab.targets.host import plan, render

    lab = lab_context(ctx)
    files = render(lab, plan(lab, stacks or [], inventory))
    console.print(f"rendered {files.root}")
    console.print(
        f"  plain Ansible: ANSIBLE_CONFIG={files.ansible_cfg} ansible-playbook -i {files.inventory} playbooks/site.yml",
        markup=False,
    )


@app.command("prepare-docker")
def prepare_docker_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Inventory host name, or [USER@]HOST[:PORT] reachable over SSH.")],
    identity: Identity = None,
    inventory: Inventory = None,
    docker_group: Annotated[
        bool,
        typer.Option("--docker-group", help="Also add the SSH user (not root) to the docker group."),
    ] = False,
    become_file: BecomeFile = None,
    ask_become: AskBecome = False,
) -> None:
    """Install the Docker engine and compose from the distribution on HOST (idempotent, pyinfra);
    as a sudo user through sudo."""
    from lab.targets.remote import parse_host, prepare_docker

    lab = lab_context(ctx)
    target = parse_host(host, identity, inventory or lab.root / "inventory.ini", explicit=inventory is not None)
    become = become_password(become_file, ask_become, target.label)
    result = prepare_docker(lab, target, docker_group=docker_group, on_step=lambda m: note(m), become=become)
    console.print(
        f"{target.label}: Docker ready ({result.changed} change(s), {result.unchanged} unchanged) "
        f"in {result.seconds:.1f}s — {result.engine}",
        soft_wrap=True,
    )
    if docker_group and target.user != "root":
        console.print(f"{target.user} is in the docker group (it applies to new SSH sessions)")


@app.command("docker-up")
def docker_up_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="Inventory host name or [USER@]HOST[:PORT].")],
    names: Stacks = None,
    identity: Identity = None,
    become_file: BecomeFile = None,
    ask_become: AskBecome = False,
) -> None:
    """Run the Docker lab on a remote host (same as `lab up --host HOST`) and print SSH tunnels."""
    print_remote_up(lab_context(ctx), names or [], host, identity, become_password(become_file, ask_become, host))


@app.command("tunnel")
def tunnel_cmd(
    ctx: typer.Context,
    print_only: Annotated[bool, typer.Option("--print", help="Print the ssh command; do not run it.")] = False,
) -> None:
    """Forward every published port of this folder's remote lab here (ssh -N -L ...), and write
    .lab/tunnel.env for `lab --env-file .lab/tunnel.env verify`; runs until Ctrl-C."""
    import os
    import shlex
    import sys

    from lab.errors import Problem, UsageError
    from lab.pipeline import current
    from lab.state import DockerRemote
    from lab.targets.remote import plan_tunnel

    lab = lab_context(ctx)
    config, state = current(lab)
    if not isinstance(state.target, DockerRemote):
        raise UsageError(
            Problem("this lab does not run on a remote Docker host", "`lab host tunnel` is for `lab up --host`")
        )
    plan = plan_tunnel(lab, config, state.target, state.services)
    moved = [f"{key} {remote}->{local}" for key, (remote, local) in plan.ports.items() if remote != local]
    if moved:
        note(f"busy here, forwarded from other local ports: {', '.join(moved)}")
    env_arg = shlex.quote(str(plan.env_file))
    console.print(
        f"wrote {plan.env_file} (mode 0600): `lab --env-file {env_arg} verify` probes through the tunnel",
        markup=False,
        soft_wrap=True,
    )
    console.print(shlex.join(plan.argv), markup=False, soft_wrap=True)
    if print_only or lab.dry_run:
        return
    note("tunnel open until Ctrl-C")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(plan.argv[0], list(plan.argv))  # this process becomes ssh: Ctrl-C and kill reach it
    except OSError:
        raise UsageError(Problem("ssh (OpenSSH client) is not installed here", "install openssh-client")) from None


def print_remote_up(
    lab: LabContext, names: list[str], host: str, identity: Path | None = None, become: Any = None
) -> None:
    """`lab up --host`: ship, start, wait, then print the tunnel command of every UI.

    `become`: the SSH user's sudo password (`lab.host.become.Become`), if its sudo asks for one."""
    from lab.cli.lifecycle import print_dry_run
    from lab.pipeline import up
    from lab.state import DockerRemote

    result = up(lab, names, host=host, identity=identity, on_step=lambda m: note(m), become=become)
    if print_dry_run(result):
        return
    assert isinstance(result.record, DockerRemote)
    console.print(
        f"lab is up on {result.record.host.label} in {result.record.directory}: "
        f"{', '.join(result.selection.services)} "
        f"healthy in {result.seconds:.1f}s (ports bound to the remote loopback)",
        soft_wrap=True,
    )
    if result.tunnels:
        console.print("open the UIs through SSH tunnels:")
        for line in result.tunnels:
            console.print(f"  {line}", markup=False, soft_wrap=True)
    if result.all_ports:
        console.print("every published port (LDAP clients, `lab verify`), in one tunnel:")
        console.print(f"  {result.all_ports}", markup=False, soft_wrap=True)
        console.print(
            "or `lab host tunnel`: the same, on free local ports where these are busy, and writes "
            ".lab/tunnel.env for `lab --env-file .lab/tunnel.env verify`",
            markup=False,
            soft_wrap=True,
        )
