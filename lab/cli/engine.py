"""`lab engine setup`, `lab base-image`, `lab doctor`."""

from __future__ import annotations

import os

import typer
from rich.markup import escape
from rich.table import Table

from lab.cli.common import console, lab_context, note, print_json
from lab.config import LabConfig
from lab.doctor import run_doctor
from lab.engine import ensure_base_image, setup_engine
from lab.errors import ConfigError, Problem

engine_app = typer.Typer(
    help="Install and start a Docker engine on a fresh Debian/Ubuntu machine.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(engine_app, name="engine")
    app.command("base-image")(base_image)
    app.command("doctor")(doctor)


#: Debian suites with their own base-image key: (key, default image)
SUITE_IMAGES = {
    "bookworm": ("LAB_BASE_IMAGE", "debian:bookworm-slim"),
    "trixie": ("LAB_TRIXIE_BASE_IMAGE", "debian:trixie-slim"),
}


def _base_image(lab_ctx, suite: str = "bookworm") -> str:  # type: ignore[no-untyped-def]
    """The image a suite's base is tagged as: its key in .env, else the environment, else the default."""
    key, default = SUITE_IMAGES.get(suite, ("", f"debian:{suite}-slim"))
    if not key:
        return default
    try:
        core = LabConfig.from_env(lab_ctx.env_path).core
        return core.base_image if suite == "bookworm" else core.trixie_base_image
    except ConfigError:
        return os.environ.get(key, default)


def _source(explicit: str) -> str:
    return explicit or os.environ.get("LAB_BASE_IMAGE_SOURCE", "auto")


@engine_app.command("setup")
def engine_setup(
    ctx: typer.Context,
    source: str = typer.Option("", "--base-source", help="auto | pull | debootstrap (env LAB_BASE_IMAGE_SOURCE)."),
    both_composes: bool = typer.Option(
        False, "--both-composes", help="Also install compose v1 and v2 when an engine already answers (CI)."
    ),
) -> None:
    """Install docker.io, compose v1+v2 and debootstrap, start dockerd, create the base image — as needed."""
    lab = lab_context(ctx)
    report = setup_engine(
        lab.runner, base_image=_base_image(lab), base_source=_source(source), both_composes=both_composes, step=note
    )
    if report.changed:
        console.print("engine ready: " + "; ".join(report.actions))
    else:
        console.print("engine already set up: nothing to do")


def base_image(
    ctx: typer.Context,
    source: str = typer.Option("", "--source", help="auto | pull | debootstrap (env LAB_BASE_IMAGE_SOURCE)."),
    suite: str = typer.Option(
        "bookworm", "--suite", help="Debian suite: bookworm (LAB_BASE_IMAGE) or trixie (LAB_TRIXIE_BASE_IMAGE)."
    ),
) -> None:
    """Create LAB_BASE_IMAGE locally (pull, or debootstrap + docker import when no registry answers)."""
    lab = lab_context(ctx)
    if suite not in SUITE_IMAGES:
        raise ConfigError(Problem(f"--suite {suite!r} is not supported", f"use {' or '.join(SUITE_IMAGES)}"))
    image = _base_image(lab, suite)
    how = ensure_base_image(lab.runner, image, source=_source(source), suite=suite, step=note)
    console.print(f"{image}: {how}")


def doctor(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks or services to check ports for (default: LAB_STACKS)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check the engine, compose, base image, free ports, disk, .env and vendor packages."""
    lab = lab_context(ctx)
    checks = run_doctor(lab, names or [])
    failed = [c for c in checks if not c.ok and not c.warning]
    if as_json:
        print_json({"ok": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        table = Table("check", "result", "detail", "how to fix")
        for c in checks:
            mark = "ok" if c.ok else ("warn" if c.warning else "FAIL")
            table.add_row(c.name, mark, escape(c.detail), "" if c.ok else escape(c.fix))
        console.print(table)
    if failed:
        raise typer.Exit(1)
