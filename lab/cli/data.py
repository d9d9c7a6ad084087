"""`lab data generate`: a deterministic synthetic company for scale demos and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lab.cli.common import console, print_json
from lab.errors import Problem, UsageError
from lab.ldap import api

data_app = typer.Typer(help="Sample company data.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


@data_app.command("generate")
def generate_cmd(
    users: Annotated[int, typer.Option("--users", "-n", help="Number of people (1-200000).")],
    seed: Annotated[int, typer.Option("--seed", "-s", help="Same seed, same company.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="YAML file to write.")] = Path("company.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write a synthetic company (people, managers, groups, entitlements).

    Select it with LAB_COMPANY=<file>; it feeds the LDAP directory and the JDBC seed alike.
    """
    if not 1 <= users <= 200_000:
        raise UsageError(Problem(f"--users {users} is out of range", "use 1 to 200000"))
    if out.exists() and not force:
        raise UsageError(Problem(f"{out} already exists", "choose another --out, or pass --force"))
    company = api.write_company(users, seed, out)
    summary = {
        "file": str(out),
        "people": len(company.people),
        "groups": len(company.groups),
        "entitlements": len(company.entitlements),
        "assignments": company.assignment_count,
        "seed": seed,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"wrote {out}: {summary['people']} people, {summary['groups']} groups, "
        f"{summary['assignments']} entitlement assignments (seed {seed}); "
        f"use it with LAB_COMPANY={out}",
        markup=False,
        soft_wrap=True,
    )
