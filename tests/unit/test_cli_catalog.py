"""`lab list` and `lab packages` as a user reads them in an 80-column terminal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lab.cli import app


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_list_shows_the_host_ports_configured_in_env(tmp_path: Path) -> None:
    before = run("-C", str(tmp_path), "list")
    assert "LDAP_PORT/tcp" in before and "not started" in before  # no .env yet: the keys to set
    run("-C", str(tmp_path), "init", "--set", "LDAP_PORT=11389", "--set", "DBGATE_PORT=18090")
    table = run("-C", str(tmp_path), "list")
    assert "11389/tcp" in table and "18090/tcp" in table  # whole, never cut short
    rows = {r["service"]: r for r in json.loads(run("-C", str(tmp_path), "list", "--json"))}
    assert rows["openldap"]["host_ports"] == ["11389/tcp", "1636/tcp"]
    assert rows["dbgate"]["ports"] == ["DBGATE_PORT->3000/tcp"]


def test_packages_shows_whole_file_names_even_when_narrow(tmp_path: Path) -> None:
    table = run("-C", str(tmp_path), "packages")
    assert "…" not in table
    expects = "".join(line.split("│")[2].strip() for line in table.splitlines() if line.startswith("│"))
    assert "packages/OktaProvisioningAgent-*.rpm" in expects  # folded over two lines, not cut short
