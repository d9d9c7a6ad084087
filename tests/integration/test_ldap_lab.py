"""`lab up ldap`, `lab verify ldap`, scenarios through the CLI, then verify again (Docker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def ldap_lab(make_lab: Any) -> Iterator[Any]:
    yield make_lab(["ldap"], name="ldaplab")


def test_up_skips_the_agent_without_its_package(ldap_lab: Any) -> None:
    status = ldap_lab.run("status")
    assert "openldap" in status.stdout and "ldap-ui" in status.stdout


def test_verify_ldap_passes_on_the_base_load(ldap_lab: Any) -> None:
    result = ldap_lab.run("verify", "ldap", check=False)
    # 3 = passed with warnings: the scenario checks are skipped before any scenario is applied
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


def test_scenarios_then_verify_passes(ldap_lab: Any) -> None:
    first = ldap_lab.run("ldap", "scenario", "apply", "--all")
    assert "move-to-ous: changed" in first.stdout
    again = ldap_lab.run("ldap", "scenario", "apply", "--all")
    assert "changed" not in again.stdout
    listed = ldap_lab.run("ldap", "scenario", "list")
    assert listed.stdout.count("not applied") == 0
    result = ldap_lab.verify("ldap")
    assert result.returncode == 0, result.stdout + result.stderr


def test_move_before_faction_ous_is_not_an_error(make_lab: Any) -> None:
    """Covered with the API in test_ldap_directory; here: unknown names exit 2, nothing changes."""
    lab = make_lab(["ldap"], up=False, name="ldapbad")
    bad = lab.run("ldap", "scenario", "apply", "nope", check=False)
    assert bad.returncode == 2 and "unknown scenario 'nope'" in bad.stderr
    assert not (lab.dir / "data").exists()
