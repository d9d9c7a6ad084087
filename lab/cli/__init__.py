"""The `lab` command. Each verb group lives in its own module and is registered here."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from lab.cli import (
    aws,
    backup,
    catalog,
    configure,
    data,
    engine,
    host,
    init,
    jdbc,
    ldap,
    lifecycle,
    observe,
    render,
    scim,
    verify,
    viewer,
)
from lab.cli.common import err_console
from lab.context import LabContext
from lab.errors import LabError

app = typer.Typer(
    name="lab",
    help="Stand up and verify on-premises identity labs for Okta demos.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("."), "--dir", "-C", help="Project directory (.env, .lab/, data/)."),
    env_file: Path | None = typer.Option(None, "--env-file", help="Config file (default: DIR/.env)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show external commands instead of running them."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every external command."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(message)s")
    if dry_run and not verbose:  # the commands a dry run would run, without the libraries' chatter
        logging.getLogger("lab").setLevel(logging.INFO)
    ctx.obj = LabContext(root=directory, env_file=env_file, dry_run=dry_run)


for module in (init, catalog, render, lifecycle, observe, verify, engine, configure, backup):
    module.register(app)
# the labs and targets
for module in (ldap, data, jdbc, scim, viewer, host):
    module.register(app)
aws.register(app)


def main() -> None:
    from lab.cli.common import hoist_global_flags

    try:
        app(args=hoist_global_flags(sys.argv[1:]))
    except LabError as exc:
        for problem in exc.problems:
            line = f"error: {problem.what}"
            if problem.hint:
                line += f" — {problem.hint}"
            err_console.print(line, markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
