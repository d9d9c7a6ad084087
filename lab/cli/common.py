"""What every command shares: the console, the context object, JSON output."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from lab.context import LabContext

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def lab_context(ctx: typer.Context) -> LabContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, LabContext)
    return obj


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def note(message: str) -> None:
    err_console.print(f"[dim]›[/dim] {message}")
