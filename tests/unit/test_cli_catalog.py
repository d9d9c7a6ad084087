"""`lab list` and `lab packages` as a user reads them in an 80-column terminal."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_creds_of_a_stack_show_only_its_own_services(tmp_path: Path) -> None:
    run("-C", str(tmp_path), "init")
    env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if "=" in line)
    card = json.loads(run("-C", str(tmp_path), "creds", "radius", "--json"))
    assert {e["service"] for e in card} == {"radius", "openvpn", "okta-radius-agent"}
    values = {e["value"] for e in card}
    assert env["LDAP_ADMIN_PASSWORD"] not in values and env["LDAP_CONFIG_PASSWORD"] not in values
    assert env["RADIUS_SECRET"] in values  # what the stack needs to be tried, it shows
    assert {e["service"] for e in json.loads(run("-C", str(tmp_path), "creds", "scim", "--json"))} == {"scim"}
    several = json.loads(run("-C", str(tmp_path), "creds", "db", "dbgate", "okta-scim", "--json"))
    assert list(dict.fromkeys(e["service"] for e in several)) == ["db", "dbgate", "okta-scim"]  # catalog order


def test_creds_of_an_unknown_name_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run("-C", str(tmp_path), "init")
    proc = subprocess.run([sys.executable, "-m", "lab", "-C", str(tmp_path), "creds", "nosuch"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: unknown stack or service 'nosuch'") and len(proc.stderr.splitlines()) == 1
