"""`lab status`, `lab logs`, `lab creds`."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from lab.card import demo_card
from lab.catalog import load_catalog
from lab.cli.common import console, err_console, lab_context, print_card, print_json
from lab.pipeline import logs, status
from lab.state import LabState


def register(app: typer.Typer) -> None:
    app.command("status")(status_cmd)
    app.command("logs")(logs_cmd)
    app.command("creds")(creds_cmd)


def status_cmd(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show every service of the lab: state, health, ports, what it waits for."""
    lab = lab_context(ctx)
    states = status(lab)
    state = LabState.load(lab)
    stale = bool(state and state.env_is_newer(lab))
    if as_json:
        print_json({"services": [s.to_dict() for s in states], "env_newer_than_lab": stale})
        return
    table = Table("service", "state", "health", "ports", "note")
    for s in states:
        table.add_row(s.service, s.state, s.health, "\n".join(s.ports), "" if s.ready else escape(s.detail[:70]))
    console.print(table)
    if stale:
        err_console.print("note: .env changed since the last `lab up`; run `lab up` to apply it")
    if not all(s.ready for s in states):
        raise typer.Exit(1)


def logs_cmd(
    ctx: typer.Context,
    service: str = typer.Argument("", help="One service (default: all)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep streaming."),
    tail: int = typer.Option(200, "--tail", help="Lines from the end of each log."),
) -> None:
    """Show service logs."""
    try:
        code = logs(lab_context(ctx), service, tail, follow, lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def creds_cmd(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks (their own services) or services (default: the whole lab)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the demo card WITH passwords and tokens (on purpose: keep it off shared screens).

    Stack and service names show only their own lines, not those of what they depend on
    (`lab creds radius` does not print the directory's admin passwords)."""
    lab = lab_context(ctx)
    from lab.pipeline import load_config, select

    config = load_config(lab)
    state = LabState.load(lab)
    catalog = load_catalog()
    if names:
        wanted = {c.service for name in names for c in catalog.named(name)}
        comps = [c for c in catalog if c.service in wanted]
    elif state:
        comps = [c for c in catalog if c.service in state.services]
    else:
        comps = select(lab, config, []).components
    from lab.datafiles import lab_data_files

    with lab_data_files(lab, state, catalog) as files:  # over SSH when the lab is not on this machine
        entries = demo_card(config, comps, reveal=True, files=files)
    if as_json:
        print_json([e.__dict__ for e in entries])
        return
    print_card(entries)
