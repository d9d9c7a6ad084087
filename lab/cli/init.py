"""`lab init` and `lab config`."""

from __future__ import annotations

import typer

from lab.cli.common import console, lab_context, print_json
from lab.config import LabConfig
from lab.envfile import add_missing_secrets, parse_sets, write_env
from lab.errors import Problem, UsageError


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("config")(config)


def init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Replace an existing .env (new secrets)."),
    set_: list[str] = typer.Option([], "--set", help="KEY=VALUE to write instead of the default."),
    add_missing: bool = typer.Option(
        False, "--add-missing", help="Keep an existing .env; only add the generated secrets it lacks."
    ),
) -> None:
    """Write .env from .env.example with freshly generated secrets (mode 0600)."""
    lab = lab_context(ctx)
    if add_missing:
        if force or set_:
            raise UsageError(Problem("--add-missing keeps the .env as it is", "use it without --force and --set"))
        if not lab.env_path.exists():
            path = write_env(lab.env_path)
            console.print(f"wrote {path} (mode 0600) with generated secrets; `lab creds` shows them")
            return
        added = add_missing_secrets(lab.env_path)
        if added:
            console.print(
                f"added to {lab.env_path}: {', '.join(added)} (generated; every other value kept)", soft_wrap=True
            )
        else:
            console.print(f"{lab.env_path} has every secret; nothing changed", soft_wrap=True)
        return
    path = write_env(lab.env_path, force=force, overrides=parse_sets(set_))
    console.print(f"wrote {path} (mode 0600) with generated secrets; `lab creds` shows them")


def config(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show the resolved configuration, secrets redacted."""
    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    check_renderable(cfg)
    values = cfg.env_values(redact=True)
    if as_json:
        print_json(values)
        return
    for key, value in values.items():
        console.print(f"{key}={value}", markup=False)


def check_renderable(cfg: LabConfig) -> None:
    """What `lab render` and `lab up` would refuse for LAB_STACKS: clashing host ports, LAB_COMPANY.

    Every problem at once (ConfigError), so `lab config` passes only what the lab can render.
    """
    from lab.catalog import load_catalog
    from lab.company import load_company
    from lab.errors import ConfigError
    from lab.selection import check_ports

    problems = []
    try:
        check_ports(cfg, load_catalog().select(cfg.core.stack_list))
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        load_company(cfg.core.company)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(*problems)
