"""`lab configure AGENT`: run a vendor agent's interactive registration inside its container."""

from __future__ import annotations

import typer

from lab.catalog import load_catalog
from lab.cli.common import lab_context
from lab.errors import Problem, UsageError
from lab.pipeline import current, docker_target


def register(app: typer.Typer) -> None:
    app.command("configure")(configure)


def configure(
    ctx: typer.Context, agent: str = typer.Argument(..., help="The agent service, e.g. okta-ldap-agent.")
) -> None:
    """Register an Okta agent with your org (interactive: follow the URL it prints)."""
    lab = lab_context(ctx)
    config, state = current(lab)
    agents = {c.service: c for c in load_catalog() if c.configure}
    comp = agents.get(agent)
    if comp is None:
        raise UsageError(
            Problem(f"{agent!r} is not an agent with a registration step", f"choose from {', '.join(agents) or 'none'}")
        )
    if agent not in state.services:
        raise UsageError(
            Problem(f"{agent} is not running in this lab", f"put its package in packages/ and run `lab up {agent}`")
        )
    target = docker_target(lab, config)
    args = target.compose_cmd("exec", agent, *comp.configure)
    raise typer.Exit(lab.runner.interactive(args, env=target.compose_env()))
