"""`lab verify`: run the checks against the running lab and print a table per component."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Column, Table

from lab.cli.common import console, lab_context, note, print_json
from lab.pipeline import current, verify_target
from lab.verify import CheckResult, VerifyReport, run_checks


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_cmd)


def verify_cmd(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Stacks or services (default: everything running)."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Probe the lab from outside (LDAP, SQL, HTTP) and inside (testinfra). Exit 1 on failure."""
    lab = lab_context(ctx)
    _, state = current(lab)
    report = run_checks(lab, names or [], state.services, target=verify_target(state), junit=junit)
    show_report(report, as_json)


def show_report(report: VerifyReport, as_json: bool) -> None:
    """Print a verify report (a table per component, or JSON) and exit 1 on failure, 3 on warnings."""
    if as_json:
        print_json({"ok": report.ok, "results": [r.to_dict() for r in report.results]})
    else:
        by_component: dict[str, list[CheckResult]] = {}
        for r in report.results:
            by_component.setdefault(r.component, []).append(r)
        for component, results in by_component.items():
            table = Table(Column("check", overflow="fold"), "result", "detail", title=component)
            for r in results:
                mark = {"passed": "ok", "skipped": "skip"}.get(r.outcome, "FAIL")
                table.add_row(escape(r.name), mark, escape(r.message))
            console.print(table)
        passed = sum(r.outcome == "passed" for r in report.results)
        skipped = [r for r in report.results if r.outcome == "skipped"]
        warned = sum(r.message.lower().startswith("warning") for r in skipped)
        failed = len(report.results) - passed - len(skipped)
        summary = f"{passed}/{len(report.results)} checks passed"
        summary += f", {len(skipped) - warned} not applicable to this lab (skip)" if len(skipped) > warned else ""
        summary += f", {warned} warning(s)" if warned else ""
        summary += f", {failed} FAILED" if failed else ""
        console.print(summary)
    for hint in report.hints:
        note(hint)
    if not report.ok:
        raise typer.Exit(1)
    if report.warnings:
        raise typer.Exit(3)
