"""The `lab` command's root group. Each verb group lives in its own module and is registered here."""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

from lab.context import LabContext
from lab.errors import LabError

# Every top-level command: (module under lab/cli/ that registers it, the line `lab --help` shows).
# A module is imported only when one of its commands runs, so `lab --help` loads none of them;
# tests/unit/test_cli.py checks each line against the command's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Write .env from .env.example with freshly generated secrets (mode 0600)."),
    "config": ("init", "Show the resolved configuration, secrets redacted."),
    "list": ("catalog", "Show the catalog: every service, its stack, ports and status."),
    "packages": ("catalog", "List the vendor packages the labs expect in packages/: found (with sha256) or missing."),
    "render": ("render", "Render compose.yml, build contexts and content files into .lab/ (nothing is started)."),
    "up": ("lifecycle", "Build what changed, start the services, wait until healthy, print the demo card."),
    "down": ("lifecycle", "Stop and remove the containers (stop the units, on native hosts); data is kept."),
    "destroy": ("lifecycle", "Remove containers, networks AND all lab data (data/, .lab/)."),
    "reset": ("lifecycle", "Back to the golden state: remove a stack's data, then bring it up again."),
    "status": ("observe", "Show every service of the lab: state, health, ports, what it waits for."),
    "logs": ("observe", "Show service logs."),
    "creds": ("observe", "Print the demo card WITH passwords and tokens (on purpose: keep it off shared screens)."),
    "verify": ("verify", "Probe the lab from outside (LDAP, SQL, HTTP) and inside (testinfra)."),
    "base-image": (
        "engine",
        "Create LAB_BASE_IMAGE locally (pull, or debootstrap + docker import when no registry answers).",
    ),
    "doctor": ("engine", "Check the engine, compose, base image, free ports, disk, .env and vendor packages."),
    "configure": ("configure", "Register an Okta agent with your org (interactive: follow the URL it prints)."),
    "backup": ("backup", "Archive data/ and .env (services paused meanwhile)."),
    "restore": ("backup", "Replace data/ and .env with an archive's, then bring the lab up again."),
    "engine": ("engine", "Install and start a Docker engine on a fresh Debian/Ubuntu machine."),
    "ldap": ("ldap", "The LDAP lab: directory scenarios."),
    "data": ("data", "Sample company data."),
    "jdbc": ("jdbc", "The JDBC lab: Okta connector guide, SQL re-apply."),
    "scim": ("scim", "The toolkit's SCIM 2.0 server (jdbc stack)."),
    "viewer": ("viewer", "The session-recording viewer."),
    "host": ("host", "Bare hosts: converge with Ansible, verify over SSH, prepare a Docker host."),
    "aws": ("aws", "Lab hosts on AWS EC2: create, start/stop, schedule, DNS, Lambdas."),
    "headerapp": ("headerapp", "The header-app lab: Okta Access Gateway header apps."),
    "radius": ("radius", "The RADIUS lab: test a login through the MFA challenge, show TOTP codes."),
    "mcp": ("mcp", "The MCP lab: client configurations, list and call the Okta MCP server's tools."),
}


class LazyGroup(TyperGroup):
    """The root group: commands come from COMMANDS, their modules imported on first use.

    (Click's context and command types are typer's vendored ones, hence `Any` in the signatures.)
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        return _module_commands(COMMANDS[cmd_name][0]).get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in COMMANDS.items()])


@functools.cache
def _module_commands(module: str) -> dict[str, Any]:
    """The click commands that `lab.cli.<module>.register` adds to a group of its own."""
    part = typer.Typer()
    importlib.import_module(f"lab.cli.{module}").register(part)
    return dict(typer.main.get_group(part).commands)


app = typer.Typer(
    cls=LazyGroup,
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
    if not verbose:  # paramiko logs every failed SSH attempt with a traceback (e.g. while a host boots)
        logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    if dry_run and not verbose:  # the commands a dry run would run, without the libraries' chatter
        logging.getLogger("lab").setLevel(logging.INFO)
    ctx.obj = LabContext(root=directory, env_file=env_file, dry_run=dry_run)


def run(argv: list[str]) -> None:
    """Parse `argv` (without the program name) and run the command; exit with its status."""
    from lab.cli.common import err_console, hoist_global_flags

    try:
        app(args=hoist_global_flags(argv))
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
