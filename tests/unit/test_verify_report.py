"""`lab verify` reads pytest's JUnit XML: outcome, first line of the reason, a passing check's detail."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.verify import _parse_junit

XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
  <testcase classname="test_scim" name="test_scim2_tester_suite_passes">
    <properties><property name="detail" value="77 of 86 passed, 9 not applicable" /></properties>
  </testcase>
  <testcase classname="test_scim" name="test_plain" />
  <testcase classname="test_ldap" name="test_bind"><failure message="bind refused&#10;more">tb</failure></testcase>
  <testcase classname="test_viewer" name="test_s3"><skipped message="viewer is not part of this lab" /></testcase>
</testsuite></testsuites>
"""


def test_junit_outcomes_messages_and_details(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(XML)
    got = [(r.component, r.name, r.outcome, r.message) for r in _parse_junit(path)]
    assert got == [
        ("scim", "test_scim2_tester_suite_passes", "passed", "77 of 86 passed, 9 not applicable"),
        ("scim", "test_plain", "passed", ""),
        ("ldap", "test_bind", "failed", "bind refused"),
        ("viewer", "test_s3", "skipped", "viewer is not part of this lab"),
    ]


def test_the_summary_counts_passed_not_applicable_and_failed(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from lab.cli.verify import show_report
    from lab.verify import CheckResult, VerifyReport

    results = (
        CheckResult("ldap", "test_bind", "passed"),
        CheckResult("ldap", "test_scenario", "skipped", "scenario schema not applied"),
        CheckResult("jdbc", "test_call", "failed", "boom"),
    )
    with pytest.raises(typer.Exit) as exit_info:
        show_report(VerifyReport(results, 1), as_json=False)
    assert exit_info.value.exit_code == 1
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "1/3 checks passed, 1 not applicable to this lab (skip), 1 FAILED"
    show_report(VerifyReport(results[:2], 0), as_json=False)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1/2 checks passed, 1 not applicable to this lab (skip)"
    warned = (*results[:2], CheckResult("viewer", "test_oidc", "skipped", "warning: no Okta org to sign in to"))
    with pytest.raises(typer.Exit) as exit_info:
        show_report(VerifyReport(warned, 0), as_json=False)
    assert exit_info.value.exit_code == 3
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "1/3 checks passed, 1 not applicable to this lab (skip), 1 warning(s)"
