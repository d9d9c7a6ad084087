"""`lab list` and `lab packages`."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Column, Table

from lab.catalog import load_catalog
from lab.cli.common import console, lab_context, print_json
from lab.doctor import packages as package_infos
from lab.errors import LabError
from lab.state import LabState


def register(app: typer.Typer) -> None:
    app.command("list")(list_components)
    app.command("packages")(packages)


def list_components(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show the catalog: every service, its stack, ports and status."""
    lab = lab_context(ctx)
    state = LabState.load(lab)
    running: dict[str, str] = {}
    if state:
        try:
            from lab.pipeline import status

            running = {s.service: f"{s.state}/{s.health}" for s in status(lab)}
        except LabError:
            running = {}
    try:  # host ports as configured in .env; the keys alone before `lab init`
        from lab.pipeline import load_config

        configured = load_config(lab).env_values()
    except LabError:
        configured = {}
    rows = []
    for comp in load_catalog():
        rows.append(
            {
                "service": comp.service,
                "stack": comp.stack,
                "description": comp.description,
                "ports": [f"{p.key}->{p.container}/{p.proto}" for p in comp.ports if p.published],
                "host_ports": [f"{configured.get(p.key, p.key)}/{p.proto}" for p in comp.ports if p.published],
                "needs_registry": comp.needs_registry,
                "vendor_package": comp.artifact.glob if comp.artifact else "",
                "status": running.get(comp.service, "not started"),
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table("stack", "service", "what", Column("ports", no_wrap=True), Column("status", no_wrap=True))
    for r in rows:
        what = str(r["description"])
        if r["needs_registry"]:
            what += " [needs-registry]"
        if r["vendor_package"]:
            what += f" (needs {r['vendor_package']})"
        table.add_row(str(r["stack"]), str(r["service"]), escape(what), "\n".join(r["host_ports"]), str(r["status"]))  # type: ignore[arg-type]
    console.print(table)


def packages(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the vendor packages the labs expect in packages/: found (with sha256) or missing."""
    lab = lab_context(ctx)
    infos = package_infos(lab)
    if as_json:
        print_json([i.to_dict() for i in infos])
        return
    # file names fold rather than end in "…": which file goes where is the point of this table
    table = Table("service", Column("expects", overflow="fold"), Column("found", overflow="fold"), "sha256")
    for i in infos:
        found = i.found or ("missing" + (f" (or set {i.url_key})" if i.url_key else ""))
        table.add_row(i.service, f"packages/{i.pattern}", found, i.sha256[:16])
    console.print(table)
