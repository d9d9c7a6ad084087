"""`lab backup` and `lab restore`."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.backup import backup, restore
from lab.cli.common import console, lab_context
from lab.pipeline import up
from lab.state import LabState


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)


def backup_cmd(
    ctx: typer.Context,
    dest: Path | None = typer.Argument(None, help="Archive to write (default: backups/lab-backup-DATE.tar.gz)."),
) -> None:
    """Archive data/ and .env (services paused meanwhile). The archive holds secrets: mode 0600."""
    path = backup(lab_context(ctx), dest)
    console.print(f"wrote {path} (mode 0600; it contains the lab's secrets)")


def restore_cmd(
    ctx: typer.Context,
    archive: Path = typer.Argument(..., help="A `lab backup` archive."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Replace data/ and .env with an archive's, then bring the lab up again."""
    lab = lab_context(ctx)
    if not yes and not typer.confirm(f"Replace {lab.data_dir} and {lab.env_path} with {archive}?"):
        raise typer.Exit(1)
    state = LabState.load(lab)
    restore(lab, archive)
    if state:
        up(lab, state.services)
    console.print(f"restored {archive}" + (f"; {', '.join(state.services)} up again" if state else ""))
