"""The operation map: packaged defaults, user overrides, validation, placeholder handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.scim.operations import (
    OPERATION_NAMES,
    count_placeholders,
    load_operations,
    parse_operations,
    to_pyformat,
)


def test_defaults_are_the_lab_procedures() -> None:
    ops = load_operations()
    assert [op.name for op in ops] == list(OPERATION_NAMES)
    assert all(op.kind == "procedure" for op in ops)
    assert ops["get_user_by_id"].statement == "CALL GET_USER_BY_ID(?)"
    assert ops["get_user_by_id"].params == ("USER_ID",)
    assert ops["add_entitlement"].params == ("USER_ID", "ENT_ID")
    create = ops["create_user"]
    assert len(create.params) == 24 and create.params[:5] == ("USER_ID", "USERNAME", "FIRSTNAME", "LASTNAME", "EMAIL")
    assert ops["update_user"].procedure.params == create.params


def test_every_operation_has_both_forms_with_matching_placeholders() -> None:
    for op in load_operations():
        for form in (op.procedure, op.sql):
            assert count_placeholders(form.text) == len(form.params), (op.name, form.kind)
        assert op.procedure.text.startswith("CALL ")
        assert not op.sql.text.upper().startswith("CALL ")


def test_kind_sql_switches_every_operation() -> None:
    ops = load_operations(kind="sql")
    assert all(op.kind == "sql" for op in ops)
    assert ops["update_user"].params[-1] == "USER_ID"  # WHERE USER_ID = ? comes last
    assert ops["get_users"].statement.startswith("SELECT ")


def test_user_file_overrides_some_operations(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(
        "operations:\n"
        "  get_users:\n"
        "    kind: sql\n"
        "    sql: SELECT * FROM USERS WHERE IS_ACTIVE = 1 AND DEPARTMENT <> 'X'\n"
        "    params: []\n"
    )
    ops = load_operations(path)
    assert ops["get_users"].kind == "sql"
    assert "DEPARTMENT" in ops["get_users"].statement
    assert ops["get_user_by_id"].statement == "CALL GET_USER_BY_ID(?)"  # untouched default
    assert ops.source == str(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "bogus"}, "kind 'bogus' is invalid"),
        ({"procedure": "CALL GET_USER_BY_ID(?, ?)"}, "has 2 `?` but 1 params"),
        ({"procedure": "SELECT 1"}, "must start with CALL"),
        ({"sql": "CALL GET_USER_BY_ID(?)"}, "CALL needs the stored-procedure form"),
        ({"params": ["NOPE"]}, "unknown database field(s) NOPE"),
        ({"sql": "SELECT 1 FROM USERS WHERE USER_ID = ?; DROP TABLE USERS", "kind": "sql"}, "only one statement"),
    ],
)
def test_invalid_definitions_are_reported(entry: dict[str, object], message: str) -> None:
    base = load_operations()
    with pytest.raises(ConfigError) as err:
        parse_operations({"get_user_by_id": entry}, base=base)
    assert message in str(err.value)


def test_unknown_operation_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown operation 'delete_user'"):
        parse_operations({"delete_user": {"procedure": "CALL X()"}}, base=load_operations())
    with pytest.raises(ConfigError, match="does not exist"):
        load_operations(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("operations: [\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_operations(bad)


def test_to_pyformat_binds_only_real_placeholders() -> None:
    text = "SELECT '?', x FROM T WHERE a = ? AND b LIKE '50%' AND c % 2 = ?"
    assert to_pyformat(text) == "SELECT '?', x FROM T WHERE a = %s AND b LIKE '50%%' AND c %% 2 = %s"
    assert count_placeholders(text) == 2


def test_round_trip_through_dict() -> None:
    ops = load_operations()
    again = parse_operations(ops.to_dict())
    assert [(o.name, o.statement, o.params, o.sql.params) for o in again] == [
        (o.name, o.statement, o.params, o.sql.params) for o in ops
    ]
