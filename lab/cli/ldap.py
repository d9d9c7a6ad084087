"""`lab ldap scenario list|apply`: the directory demo steps, idempotent and in order."""

from __future__ import annotations

from typing import Annotated

import typer

from lab.cli.common import console, lab_context, note, print_json
from lab.errors import Problem, UsageError
from lab.ldap import api, scenarios
from lab.pipeline import load_config

ldap_app = typer.Typer(help="The LDAP lab: directory scenarios.", no_args_is_help=True)
scenario_app = typer.Typer(help="Demo steps after the base load (schema, species, OUs, ...).", no_args_is_help=True)
ldap_app.add_typer(scenario_app, name="scenario")

Server = Annotated[str | None, typer.Option("--server", help="Directory host (default: LAB_BIND).")]
Port = Annotated[int | None, typer.Option("--port", help="LDAP port (default: LDAP_PORT).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NAMES_HELP = f"Scenarios: {', '.join(scenarios.NAMES)}."


def register(app: typer.Typer) -> None:
    app.add_typer(ldap_app, name="ldap")


@scenario_app.command("list")
def list_cmd(
    ctx: typer.Context,
    server: Server = None,
    port: Port = None,
    as_json: Json = False,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask the directory.")] = False,
) -> None:
    """List the scenarios in order, with whether each is applied."""
    cfg = None if offline else load_config(lab_context(ctx))
    states = api.list_scenarios(cfg, server, port)
    if as_json:
        print_json([s.__dict__ for s in states])
        return
    for s in states:
        mark = {True: "applied", False: "not applied", None: "-"}[s.applied]
        needs = f" (needs {', '.join(s.requires)})" if s.requires else ""
        console.print(f"{s.name:16} {mark:12} {s.summary}{needs}", markup=False, soft_wrap=True)


@scenario_app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help=NAMES_HELP)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Apply every scenario, in order.")] = False,
    server: Server = None,
    port: Port = None,
    as_json: Json = False,
) -> None:
    """Apply scenarios (prerequisites first); applying twice changes nothing."""
    if all_ == bool(names):
        raise UsageError(
            Problem(
                "give scenario names or --all (not both)",
                f"e.g. `lab ldap scenario apply schema`; names: {', '.join(scenarios.NAMES)}",
            )
        )
    wanted = list(scenarios.NAMES) if all_ else list(names or [])
    scenarios.plan(wanted)  # reject unknown names before reading .env or connecting
    cfg = load_config(lab_context(ctx))
    outcomes = api.apply_scenarios(cfg, wanted, server, port)
    if as_json:
        print_json([o.__dict__ for o in outcomes])
        return
    for o in outcomes:
        if o.prerequisite:
            note(f"{o.name} is a prerequisite: applied first")
        console.print(f"{o.name}: {'changed' if o.changed else 'ok'}", markup=False)
        for action in o.actions:
            console.print(f"  {action}", markup=False, soft_wrap=True)
