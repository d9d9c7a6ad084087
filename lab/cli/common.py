"""What every command shares: the console, the context object, JSON output."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from lab.context import LabContext

if TYPE_CHECKING:
    from lab.card import CardEntry

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def lab_context(ctx: typer.Context) -> LabContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, LabContext)
    return obj


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def note(message: str) -> None:
    """One line on stderr, never hard-wrapped (so logs and tests see one line per note)."""
    err_console.print(f"[dim]›[/dim] {message}", soft_wrap=True)


def print_card(entries: list[CardEntry]) -> None:
    """The demo card: a heading per service, its labels in one aligned column."""
    width = max((len(e.label) for e in entries), default=0)
    service = ""
    for e in entries:
        if e.service != service:
            console.print(f"[bold]{e.service}[/bold]")
            service = e.service
        console.print(f"  {e.label:<{width}}  {e.value}", markup=False, soft_wrap=True)


#: root options that may also follow the subcommand (`lab up --dry-run` as `lab --dry-run up`)
ANYWHERE = ("--dry-run",)


def hoist_global_flags(argv: list[str]) -> list[str]:
    """Move ANYWHERE flags found after the subcommand (before any `--`) to the front."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = [a for a in argv[:end] if a in ANYWHERE]
    rest = [a for a in argv[:end] if a not in ANYWHERE]
    return found + rest + argv[end:]
