"""Filters answered in SQL (lab.scim.sqlfilter, lab.scim.lookup) and the `find_users` lookup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from lab.errors import ConfigError
from lab.scim.filters import parse_filter
from lab.scim.lookup import entitlements_of, find_rows
from lab.scim.operations import Lookup, OperationMap, load_operations, parse_operations
from lab.scim.sqlfilter import count_statement, like_prefix, page_statement, translate

HOSTILE = ["x'); DROP TABLE USERS; --", "' OR '1'='1", "\\'; DELETE FROM USERENTITLEMENTS; #", '"', "%", "_"]


@pytest.mark.parametrize(
    ("text", "where", "params", "exact"),
    [
        ('userName eq "Luke"', "L.USERNAME = ?", ("Luke",), False),
        ('USERNAME EQ "Luke"', "L.USERNAME = ?", ("Luke",), False),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"', "L.USERNAME = ?", ("a",), False),
        ('id eq "A@b"', "L.USER_ID = ?", ("A@b",), False),
        ("active eq false", "L.IS_ACTIVE = ?", (False,), True),
        ('userName sw "lu"', "L.USERNAME LIKE ? ESCAPE '!'", ("lu%",), False),
        (
            'userName eq "a" and active eq true',
            "(L.USERNAME = ? AND L.IS_ACTIVE = ?)",
            ("a", True),
            False,
        ),
        ("active eq true and active eq true", "(L.IS_ACTIVE = ? AND L.IS_ACTIVE = ?)", (True, True), True),
    ],
)
def test_the_subset_becomes_parameterised_sql(text: str, where: str, params: tuple[Any, ...], exact: bool) -> None:
    sf = translate(parse_filter(text))
    assert sf is not None and (sf.where, sf.params, sf.exact) == (where, params, exact)


def test_postgresql_compares_username_in_lower_case() -> None:
    sf = translate(parse_filter('userName eq "Luke" and userName sw "l"'), "postgresql")
    assert sf is not None
    assert sf.where == "(LOWER(L.USERNAME) = LOWER(?) AND LOWER(L.USERNAME) LIKE LOWER(?) ESCAPE '!')"
    assert translate(parse_filter('id eq "A"'), "postgresql").where == "L.USER_ID = ?"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        'title eq "x"',
        'userName co "x"',
        'userName ew "x"',
        'userName ne "x"',
        'id sw "x"',
        "userName pr",
        'userName eq "a" or active eq true',
        'not (userName eq "a")',
        'emails[value eq "a"]',
        "active eq 1",
        "userName eq 5",
        "active ne true",
        'userName eq "a" and title eq "b"',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"',
    ],
)
def test_everything_else_falls_back_to_python(text: str) -> None:
    assert translate(parse_filter(text)) is None


@pytest.mark.parametrize("evil", HOSTILE)
@pytest.mark.parametrize("attr", ["userName", "id"])
@pytest.mark.parametrize("op", ["eq", "sw"])
def test_hostile_values_are_bound_never_spliced(evil: str, attr: str, op: str) -> None:
    quoted = evil.replace("\\", "\\\\").replace('"', '\\"')
    sf = translate(parse_filter(f'{attr} {op} "{quoted}"'))
    if attr == "id" and op == "sw":
        assert sf is None
        return
    assert sf is not None
    text, params = page_statement("SELECT * FROM USERS", sf, "USER_ID", 10, 0)
    benign = translate(parse_filter(f'{attr} {op} "plain"'))
    assert benign is not None and text == page_statement("SELECT * FROM USERS", benign, "USER_ID", 10, 0)[0]
    assert text.count("?") == len(params) == 3
    assert params[0] == (like_prefix(evil) if op == "sw" else evil)


def test_like_wildcards_in_the_value_are_literal() -> None:
    assert like_prefix("50%_off!") == "50!%!_off!!%"
    assert like_prefix("") == "%"


def test_statements_wrap_the_lookup() -> None:
    sf = translate(parse_filter("active eq true"))
    assert sf is not None
    assert count_statement("SELECT * FROM USERS", sf) == (
        "SELECT COUNT(*) AS N FROM (SELECT * FROM USERS) L WHERE L.IS_ACTIVE = ?",
        [True],
    )
    text, params = page_statement("SELECT * FROM USERS", sf, "USER_ID", 100, 200)
    assert text.endswith("ORDER BY L.USER_ID LIMIT ? OFFSET ?") and params == [True, 100, 200]


# -- the lookup in the operation map ----------------------------------------------------------


def test_default_map_has_the_lookup_and_still_ten_operations() -> None:
    ops = load_operations()
    assert ops.lookup is not None and ops.lookup.sql.startswith("SELECT USER_ID, USERNAME")
    assert "WHERE" not in ops.lookup.sql  # every user, active or not
    assert "EXTERNALID" in ops.lookup.sql  # like get_all_users, so a filtered user has its externalId
    assert len(list(ops)) == 10 and "find_users" not in ops.to_dict()["operations"]
    assert load_operations(kind="sql").lookup == ops.lookup


def test_overriding_get_users_alone_turns_the_lookup_off() -> None:
    base = load_operations()
    ops = parse_operations({"get_users": {"kind": "sql", "statement": "SELECT * FROM PEOPLE", "params": []}}, base)
    assert ops.lookup is None
    both = parse_operations(
        {
            "get_users": {"kind": "sql", "statement": "SELECT * FROM PEOPLE", "params": []},
            "find_users": {"sql": "SELECT * FROM PEOPLE"},
        },
        base,
    )
    assert both.lookup == Lookup("find_users", "Find Users (SCIM filters)", "SELECT * FROM PEOPLE")
    assert parse_operations({"find_users": {"enabled": False}}, base).lookup is None


def test_overriding_get_all_users_alone_turns_the_lookup_off() -> None:
    # find_users stands in for get_all_users (the filters' fallback): a new one may read other rows
    all_users = {"get_all_users": {"kind": "sql", "statement": "SELECT * FROM PEOPLE", "params": []}}
    ops = parse_operations(all_users, load_operations())
    assert ops.lookup is None and ops.entitlement_lookup is not None
    assert ops["get_all_users"].statement == "SELECT * FROM PEOPLE"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"sql": "DELETE FROM USERS"}, "must be one SELECT"),
        ({"sql": "SELECT * FROM USERS WHERE USER_ID = ?"}, "takes no `?`"),
        ({"sql": "SELECT * FROM USERS; DROP TABLE USERS"}, "only one statement"),
        ({"id_column": "ID; DROP"}, "is not a USERS column"),
        ("nope", "is not a mapping"),
    ],
)
def test_invalid_lookups_are_reported(entry: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_operations({"find_users": entry}, base=load_operations())
    assert message in str(err.value)


# -- find_rows against a recording fake -------------------------------------------------------


class FakeDb:
    dialect = "mariadb"

    def __init__(self, operations: OperationMap, rows: list[dict[str, Any]]) -> None:
        self.operations = operations
        self.rows = rows
        self.sent: list[list[tuple[str, Sequence[Any]]]] = []

    def sorted_users(self, *, fresh: bool) -> list[dict[str, Any]]:
        return sorted(self.rows, key=lambda r: r["USER_ID"])

    def query(self, lookup: Lookup, items: Sequence[tuple[str, Sequence[Any]]]) -> list[list[dict[str, Any]]]:
        self.sent.append(list(items))
        out = []
        for text, _ in items:
            out.append([{"N": len(self.rows)}] if text.startswith("SELECT COUNT") else list(self.rows))
        return out


def _row(uid: str, name: str, active: int = 1) -> dict[str, Any]:
    return {"USER_ID": uid, "USERNAME": name, "IS_ACTIVE": active, "FIRSTNAME": "F", "LASTNAME": "L"}


def test_string_filters_are_checked_by_the_evaluator() -> None:
    # as a case-insensitive USER_ID collation would answer `id eq "LUKE"`: the row is not a match
    db = FakeDb(load_operations(), [_row("luke", "luke")])
    assert find_rows(db, parse_filter('id eq "LUKE"'), 1, 10, "https://x") == (0, [])
    total, rows = find_rows(db, parse_filter('userName eq "LUKE"'), 1, 10, "https://x")  # type: ignore[misc]
    assert total == 1 and rows[0]["USER_ID"] == "luke"
    assert len(db.sent) == 2 and all(len(batch) == 1 for batch in db.sent)


def test_active_filters_count_and_page_in_one_round_trip() -> None:
    db = FakeDb(load_operations(), [_row("a", "a"), _row("b", "b")])
    total, rows = find_rows(db, parse_filter("active eq true"), 1, 2, "https://x")  # type: ignore[misc]
    assert total == 2 and len(rows) == 2 and len(db.sent) == 1 and len(db.sent[0]) == 2
    assert find_rows(db, parse_filter("active eq true"), 1, 0, "https://x") == (2, [])
    assert len(db.sent[-1]) == 1  # count only


def test_no_lookup_or_unsupported_filter_means_none() -> None:
    ops = parse_operations({"find_users": {"enabled": False}}, load_operations())
    assert find_rows(FakeDb(ops, []), parse_filter('userName eq "a"'), 1, 10, "x") is None
    assert find_rows(FakeDb(load_operations(), []), parse_filter('title eq "a"'), 1, 10, "x") is None


def test_unfiltered_pages_come_from_the_sorted_snapshot() -> None:
    db = FakeDb(load_operations(), [_row(c, c) for c in "dcba"])
    total, rows = find_rows(db, None, 2, 2, "x")  # type: ignore[misc]
    assert total == 4 and [r["USER_ID"] for r in rows] == ["b", "c"] and db.sent == []


def test_page_entitlements_come_from_one_in_statement() -> None:
    db = FakeDb(load_operations(), [{"USER_ID": "a", "ENT_ID": 1, "ENT_NAME": "VPN"}, {"USER_ID": "B", "ENT_ID": 2}])
    got = entitlements_of(db, ["a", "b", "c"])
    assert got == {"a": [db.rows[0]], "b": [db.rows[1]], "c": []}
    ((text, params),) = db.sent[0]
    assert text.endswith("WHERE L.USER_ID IN (?, ?, ?) ORDER BY L.USER_ID, L.ENT_ID") and params == ["a", "b", "c"]
    assert entitlements_of(db, []) == {}
    ops = parse_operations(
        {"get_user_entitlements": {"procedure": "CALL X(?)", "params": ["USER_ID"]}}, load_operations()
    )
    assert ops.entitlement_lookup is None and ops.lookup is not None
    assert entitlements_of(FakeDb(ops, []), ["a"]) is None
