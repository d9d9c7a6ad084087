"""SCIM filters (RFC 7644 §3.4.2.2): parsing, errors, evaluation; never SQL."""

from __future__ import annotations

import pytest

from lab.scim.errors import ScimError
from lab.scim.filters import Compare, Logical, Not, Present, ValuePath, equality_on, matches, parse_filter

LUKE = {
    "id": "luke.skywalker@galaxy.local",
    "userName": "Luke.Skywalker@galaxy.local",
    "name": {"givenName": "Luke", "familyName": "Skywalker"},
    "active": True,
    "title": "Jedi Knight",
    "emails": [{"value": "luke.skywalker@galaxy.local", "type": "work"}],
    "entitlements": [{"value": "1"}, {"value": "2"}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "JEDI-COUNCIL"},
}


def test_parses_the_issue_minimum() -> None:
    assert parse_filter('userName eq "bjensen"') == Compare("userName", "eq", "bjensen")
    assert parse_filter('id eq "X"') == Compare("id", "eq", "X")
    assert parse_filter("active eq true") == Compare("active", "eq", True)


def test_parses_logic_grouping_and_value_paths() -> None:
    node = parse_filter('not (title pr) or userName sw "l" and active eq false')
    assert isinstance(node, Logical) and node.op == "or"
    assert isinstance(node.left, Not) and node.left.inner == Present("title")
    assert parse_filter('emails[type eq "work"]') == ValuePath("emails", Compare("type", "eq", "work"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "luke.skywalker@galaxy.local"', True),  # case-insensitive (caseExact false)
        ('id eq "LUKE.SKYWALKER@GALAXY.LOCAL"', False),  # id is caseExact
        ("active eq true", True),
        ("active eq false", False),
        ('name.familyName co "walk"', True),
        ('title sw "jedi" and not (title ew "master")', True),
        ('emails[type eq "work" and value ew "galaxy.local"]', True),
        ('entitlements.value eq "2"', True),
        ('entitlements.value eq "3"', False),
        ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "JEDI-COUNCIL"', True),
        ("nickName pr", False),
        ('title ne "Jedi Knight"', False),
    ],
)
def test_evaluates_against_a_resource(text: str, expected: bool) -> None:
    assert matches(parse_filter(text), LUKE) is expected


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "unterminated',
        "userName eq",
        'userName "x"',
        "(userName pr",
        'userName eq "a" and',
        'emails[type eq "work"',
        "",
        '"x" eq userName',
        "userName eq bareword",
    ],
)
def test_syntax_errors_are_invalid_filter(text: str) -> None:
    with pytest.raises(ScimError) as err:
        parse_filter(text)
    assert err.value.status == 400 and err.value.scim_type == "invalidFilter"


@pytest.mark.parametrize("op", ["like", "regex", "in", "=="])
def test_unsupported_operators_are_invalid_filter(op: str) -> None:
    with pytest.raises(ScimError) as err:
        parse_filter(f'userName {op} "x"')
    assert err.value.scim_type == "invalidFilter"


def test_injection_strings_are_plain_values() -> None:
    evil = "x' OR '1'='1'; DROP TABLE USERS; --"
    node = parse_filter("userName eq \"x' OR '1'='1'; DROP TABLE USERS; --\"")
    assert node == Compare("userName", "eq", evil)
    assert matches(node, {"userName": evil}) and not matches(node, LUKE)


def test_overlong_and_deep_filters_are_rejected() -> None:
    with pytest.raises(ScimError, match="longer than"):
        parse_filter('userName eq "' + "a" * 3000 + '"')
    with pytest.raises(ScimError, match="nested too deeply"):
        parse_filter("(" * 40 + "title pr" + ")" * 40)


def test_equality_fast_path() -> None:
    assert equality_on(parse_filter('ID eq "abc"'), "id") == "abc"
    assert equality_on(parse_filter('id eq "abc" and active eq true'), "id") is None
