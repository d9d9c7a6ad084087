"""`lab render`: write .lab/ without starting anything."""

from __future__ import annotations

import typer

from lab.cli.common import console, lab_context, note
from lab.pipeline import load_config, render, select


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)


def render_cmd(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks or services (default: LAB_STACKS)."),
) -> None:
    """Render compose.yml, build contexts and content files into .lab/ (nothing is started)."""
    lab = lab_context(ctx)
    config = load_config(lab)
    selection = select(lab, config, names or [])
    for comp, why in selection.skipped:
        note(f"{comp.service} skipped: {why}")
    result = render(lab, config, selection)
    console.print(
        f"rendered {len(result.files)} files into {result.out} "
        f"({len(result.changed)} changed); compose file: {result.compose_file}"
    )
