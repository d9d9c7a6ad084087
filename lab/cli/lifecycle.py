"""`lab up`, `down`, `destroy`, `reset`."""

from __future__ import annotations

import time

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from lab.card import demo_card
from lab.cli.common import console, err_console, lab_context, note, print_card
from lab.config import LabConfig
from lab.pipeline import UpResult, destroy, destroy_question, down, load_config, reset, reset_services, up
from lab.state import NativeHosts
from lab.targets.base import ServiceState


def register(app: typer.Typer) -> None:
    app.command("up")(up_cmd)
    app.command("down")(down_cmd)
    app.command("destroy")(destroy_cmd)
    app.command("reset")(reset_cmd)


def _progress_table(states: list[ServiceState], elapsed: float) -> Table:
    table = Table("service", "state", "waiting for", title=f"waiting for health checks ({elapsed:.0f}s)")
    for s in states:
        waiting = (
            "" if s.ready else (s.detail or f"container to become {'healthy' if s.state == 'running' else 'running'}")
        )
        table.add_row(s.service, f"{s.state}/{s.health}", escape(waiting[:80]))
    return table


def up_cmd(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks or services (default: LAB_STACKS)."),
    host: str = typer.Option("", "--host", help="Run on a remote Docker host over SSH (see `lab host`)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the images from the base image, without cache."),
    creds: bool = typer.Option(False, "--creds", help="Show passwords and tokens on the card (as `lab creds`)."),
) -> None:
    """Build what changed, start the services, wait until healthy, print the demo card."""
    lab = lab_context(ctx)
    warn_if_published_everywhere(load_config(lab))
    if host:
        from lab.cli.host import print_remote_up  # the remote Docker host target

        print_remote_up(lab, names or [], host)
        return
    started = time.monotonic()
    with Live(console=err_console, transient=True, refresh_per_second=4) as live:

        def on_update(states: list[ServiceState], elapsed: float) -> None:
            live.update(_progress_table(states, elapsed))

        result = up(
            lab, names or [], on_update=on_update, on_step=lambda m: live.console.print(f"› {m}"), rebuild=rebuild
        )
    if print_dry_run(result):
        return
    for comp, why in result.selection.skipped:
        note(f"{comp.service} skipped: {why}")
    if result.built:
        note(f"built {', '.join(result.built)}")
    console.print(f"lab is up: {', '.join(result.selection.services)} healthy in {time.monotonic() - started:.1f}s")
    config = load_config(lab)
    if isinstance(result.record, NativeHosts):  # values true for the hosts, read over SSH
        from lab.datafiles import lab_data_files

        with lab_data_files(lab) as files:
            card = demo_card(config, result.selection.components, reveal=creds, files=files)
    else:
        card = demo_card(config, result.selection.components, reveal=creds, data_dir=lab.data_dir)
    print_card(card)
    if not creds and any(e.secret for e in card):
        console.print("(passwords hidden: `lab creds` shows them)")


def warn_if_published_everywhere(config: LabConfig) -> None:
    """One line when LAB_BIND is a wildcard: the lab's ports are then reachable from the network."""
    if config.core.publishes_everywhere:
        note(
            f"LAB_BIND={config.core.bind} publishes every lab port on all interfaces; "
            "set LAB_BIND=127.0.0.1 (and use SSH tunnels) unless you mean it"
        )


def print_dry_run(result: UpResult) -> bool:
    """For a dry run: say so (the commands were shown above) and return True."""
    if not result.dry_run:
        return False
    console.print(
        f"dry run: the commands above would bring up {', '.join(result.selection.services)} on "
        f"{result.record.where}; nothing was written, started or waited for"
    )
    return True


def down_cmd(ctx: typer.Context) -> None:
    """Stop and remove the containers (stop the units, on native hosts); data is kept."""
    where = down(lab_context(ctx))
    if isinstance(where, NativeHosts):
        console.print(
            f"lab is down on {where.where}: its units are stopped, their data is kept "
            "(`lab up` starts them again, `lab destroy` removes them)",
            soft_wrap=True,
        )
        return
    console.print("lab is down; data/ is kept (`lab up` resumes, `lab destroy` removes it)")


def destroy_cmd(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove containers, networks AND all lab data (data/, .lab/). Asks first."""
    lab = lab_context(ctx)
    if not yes and not typer.confirm(destroy_question(lab)):
        raise typer.Exit(1)
    removed = destroy(lab)
    verb = "dry run: would remove" if lab.dry_run else "removed"
    console.print(f"{verb} {', '.join(removed) or 'nothing (no lab here)'}")


def reset_cmd(
    ctx: typer.Context,
    stacks: list[str] = typer.Argument(None, help="Stacks to reset (default: every running one)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Back to the golden state: remove a stack's data, then bring it up again."""
    lab = lab_context(ctx)
    names = reset_services(lab, stacks or [])
    if not yes and not typer.confirm(f"Erase the data of {', '.join(names)} and start them fresh?"):
        raise typer.Exit(1)
    reset(lab, names)
    console.print(f"{'dry run: would reset' if lab.dry_run else 'reset'} {', '.join(names)} to the golden state")
