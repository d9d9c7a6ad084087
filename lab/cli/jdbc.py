"""`lab jdbc ...`: the Okta admin-console guide, and re-applying the SQL to a running database."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from lab.cli.common import console, lab_context, note, print_json
from lab.errors import Problem, TargetError, UsageError

app = typer.Typer(help="The JDBC lab: Okta connector guide, SQL re-apply.", no_args_is_help=True)


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="jdbc")


@app.command("guide")
def guide_cmd(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="text, markdown (handouts) or json."),
    show_secrets: bool = typer.Option(
        False, "--show-secrets", help="Include the SCIM bearer token and the database password."
    ),
    operations: Path | None = typer.Option(
        None, "--operations", help="Operation map YAML (default: the packaged one, or SCIM_OPERATIONS_FILE)."
    ),
) -> None:
    """Print what the Okta admin console asks for: SCIM host/token, DB connection, 10 operations."""
    from lab.jdbc.guide import build_guide, render_markdown, render_text
    from lab.pipeline import load_config
    from lab.scim.operations import load_operations

    lab = lab_context(ctx)
    config = load_config(lab)
    op_map = load_operations(operations or _configured_operations(config))
    guide = build_guide(config, lab.data_dir, op_map, show_secrets=show_secrets)
    if fmt is Format.json:
        print_json(
            {
                "agent": {s.label: s.value for s in guide.agent},
                "database": {s.label: s.value for s in guide.database},
                **op_map.to_dict(),
                "to_app": [list(m) for m in guide.to_app],
                "to_okta": [list(m) for m in guide.to_okta],
            }
        )
        return
    text = render_markdown(guide) if fmt is Format.markdown else render_text(guide)
    console.print(text, markup=False, highlight=False, end="", soft_wrap=True)


def _configured_operations(config: object) -> Path | None:
    """SCIM_OPERATIONS_FILE when the scim section defines one."""
    scim = getattr(config, "scim", None)
    value = getattr(scim, "operations_file", None) if scim is not None else None
    return Path(value) if value else None


@app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    seed: bool = typer.Option(False, "--seed", help="Also load the sample data if the tables are empty."),
) -> None:
    """Re-render and apply schema, views and procedures to the running database (keeps rows)."""
    from lab.pipeline import current, docker_target, render, require_local, select

    lab = lab_context(ctx)
    config, state = current(lab)
    require_local(state, "jdbc apply")
    if "db" not in state.services:
        raise UsageError(Problem("the db service is not part of this lab", "run `lab up jdbc` first"))
    render(lab, config, select(lab, config, state.services))
    target = docker_target(lab, config)
    args = ["exec", "-T", "db", "lab-db-apply"] + (["--seed"] if seed else [])
    try:
        out = target.run_compose(*args, timeout=300)
    except TargetError as exc:
        raise TargetError(Problem(f"applying the SQL failed: {exc}", "see `lab logs db`")) from None
    for line in out.splitlines():
        note(line.removeprefix("db: "))
