"""The demo card as printed by `lab up` and `lab creds`: one heading per service, aligned values."""

from __future__ import annotations

import pytest

from lab.card import CardEntry
from lab.cli import common


def test_values_start_in_one_column_whatever_the_label_length(capsys: pytest.CaptureFixture[str]) -> None:
    entries = [
        CardEntry("openldap", "LDAP URL", "ldap://127.0.0.1:1389", False),
        CardEntry("openldap", "Okta: Unique identifier attribute", "entryuuid", False),
        CardEntry("scim", "SCIM token", "********", True),
    ]
    common.print_card(entries)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "openldap" and lines[3] == "scim"
    values = [line for line in lines if line.startswith("  ")]
    columns = {line.index(value) for line, value in zip(values, ("ldap://", "entryuuid", "********"), strict=True)}
    assert columns == {2 + len("Okta: Unique identifier attribute") + 2}
