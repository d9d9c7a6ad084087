"""Rendering of templates/sql for any company, the statement splitter and the error contract."""

from __future__ import annotations

import re
import time

import pytest

from lab.company import Company, Entitlement, Person, generate_company, load_company
from lab.jdbc.sql import (
    PROCEDURES,
    SERVER_PROCEDURES,
    USER_COLUMNS,
    USER_PARAMS,
    VIEWS,
    classify_error,
    render_sql,
    split_statements,
)


@pytest.fixture(scope="module")
def galaxy() -> dict[str, str]:
    return render_sql(load_company("galaxy"), "galaxy.local")


def test_schema_has_the_25_user_columns_in_order(galaxy):
    body = galaxy["schema"].split("CREATE TABLE IF NOT EXISTS USERS (")[1].split("PRIMARY KEY")[0]
    cols = [line.split()[0] for line in body.strip().splitlines()]
    assert tuple(cols) == USER_COLUMNS


def test_schema_is_portable_to_mysql(galaxy):
    assert not re.search(r"^\s*\w+\s+UUID\b", galaxy["schema"], re.MULTILINE)
    assert "CHAR(36)" in galaxy["schema"]
    assert "CREATE TABLE IF NOT EXISTS" in galaxy["schema"]


def test_every_procedure_and_view_is_create_or_replace(galaxy):
    for name in PROCEDURES:
        assert f"CREATE OR REPLACE PROCEDURE {name}(" in galaxy["procedures"]
    for name in VIEWS:
        assert f"CREATE OR REPLACE VIEW {name} AS" in galaxy["views"]


def test_user_id_is_case_exact_and_the_upgrade_is_in_the_schema(galaxy):
    schema = galaxy["schema"]
    assert "USER_ID         VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL" in schema
    assert "USERNAME        VARCHAR(100) NOT NULL" in schema  # table default: case-insensitive
    upgrade = schema.split("CREATE PROCEDURE LAB_UPGRADE_SCHEMA()")[1]
    assert "COLLATE utf8mb4_bin" in upgrade and "ADD COLUMN EXTERNALID" in upgrade
    assert schema.rstrip().endswith("CALL LAB_UPGRADE_SCHEMA();\nDROP PROCEDURE LAB_UPGRADE_SCHEMA;")
    assert len(list(split_statements(schema))) == 8  # 3 tables, widen, drop+create+call+drop upgrade


def test_server_operations_match_their_procedures():
    from lab.scim.operations import SERVER_OPERATION_NAMES, load_operations

    ops = load_operations()
    procs = render_sql(load_company("galaxy"), "galaxy.local")["procedures"]
    for name in SERVER_OPERATION_NAMES:
        called = ops[name].procedure.text.split("CALL ", 1)[1].split("(", 1)[0]
        assert called in SERVER_PROCEDURES and f"CREATE OR REPLACE PROCEDURE {called}(" in procs
    assert [op.name for op in ops] == [op.name for op in ops if op.name not in SERVER_OPERATION_NAMES]


def test_mysql_dialect_drops_and_creates_procedures():
    sql = render_sql(load_company("galaxy"), "galaxy.local", dialect="mysql")["procedures"]
    assert "CREATE OR REPLACE PROCEDURE" not in sql
    for name in PROCEDURES:
        assert f"DROP PROCEDURE IF EXISTS {name}$$" in sql


@pytest.mark.parametrize("proc", ["CREATE_USER", "UPDATE_USER"])
def test_user_procedures_take_24_parameters_in_public_lab_order(galaxy, proc):
    head = galaxy["procedures"].split(f"PROCEDURE {proc}(")[1].split(")\nBEGIN")[0]
    names = re.findall(r"IN p_(\w+) ", head)
    assert [n.upper() for n in names] == list(USER_PARAMS)


def test_operation_map_matches_the_procedures(galaxy):
    from lab.scim.operations import load_operations

    ops = load_operations()
    assert list(ops["create_user"].procedure.params) == list(USER_PARAMS)
    for op in ops:
        name = op.procedure.text.split("CALL ", 1)[1].split("(", 1)[0]
        assert name in PROCEDURES
        assert op.procedure.text.count("?") == len(op.procedure.params)


def test_seed_uses_ldap_logins_and_resolves_managers(galaxy):
    seed = galaxy["seed"]
    assert "('luke.skywalker@galaxy.local', 'luke.skywalker@galaxy.local', 'Luke'" in seed
    assert "'obiwan.kenobi@galaxy.local', 'Obi-Wan Kenobi'" in seed  # MANAGERID, MANAGER
    assert "c-3po@galaxy.local" in seed and "C3-PO" not in seed


def test_seed_counts_in_the_header(galaxy):
    assert "15 users, 10 entitlements, 82 assignments" in galaxy["seed"]
    assert galaxy["seed"].count("(UUID(), ") == 82


def test_seed_follows_the_mail_domain():
    seed = render_sql(load_company("galaxy"), "example.org")["seed"]
    assert "luke.skywalker@example.org" in seed and "galaxy.local" not in seed


def test_seed_escapes_quotes_and_backslashes():
    company = Company(
        "Quotes",
        (
            Person(
                "o.brien",
                "Miles",
                "O'Brien",
                "Miles O'Brien",
                "Chief \\ Engineer",
                title="Chief'); DROP TABLE USERS; --",
                entitlements=(1,),
            ),
        ),  # fmt: skip
        (),
        (Entitlement(1, "It's", "a \\ b"),),
    )
    seed = render_sql(company, "ds9.local")["seed"]
    assert "'O''Brien'" in seed and "'Chief \\\\ Engineer'" in seed
    assert "'Chief''); DROP TABLE USERS; --'" in seed
    assert "'It''s', 'a \\\\ b'" in seed
    statements = list(split_statements(seed))
    assert len(statements) == 6  # SET NAMES, START, 3 INSERTs, COMMIT


def test_seed_batches_10000_users_quickly():
    company = generate_company(10_000)
    start = time.perf_counter()
    seed = render_sql(company, "corp.local")["seed"]
    elapsed = time.perf_counter() - start
    assert seed.count("INSERT INTO USERS") == 20  # 500 rows per statement
    assert seed.count("INSERT INTO USERENTITLEMENTS") == -(-company.assignment_count // 1000)
    assert elapsed < 30, f"rendering took {elapsed:.1f}s"


def test_split_statements_honours_delimiter(galaxy):
    statements = list(split_statements(galaxy["procedures"]))
    assert len(statements) == 17  # 5 helpers + 10 procedures + 2 for the SCIM server
    assert all(s.startswith("CREATE OR REPLACE PROCEDURE") for s in statements)
    assert all(s.rstrip().endswith("END") for s in statements)
    assert "DELIMITER" not in "".join(statements)


def test_split_statements_simple_script():
    script = "-- c\nSELECT 1;\n\nDELIMITER //\nCREATE PROCEDURE P() BEGIN SELECT 1; END//\nDELIMITER ;\nSELECT 2;\n"
    assert list(split_statements(script)) == [
        "SELECT 1", "CREATE PROCEDURE P() BEGIN SELECT 1; END", "SELECT 2"]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "kind", "detail"),
    [
        ("unknown user: a@b", "unknown_user", "a@b"),
        ("unknown entitlement: 99", "unknown_entitlement", "99"),
        ("duplicate user: a@b already exists", "duplicate_user", "a@b already exists"),
        ("missing mandatory field: EMAIL", "missing_field", "EMAIL"),
    ],
)
def test_classify_error(message, kind, detail):
    err = classify_error(message)
    assert err is not None and (err.kind, err.detail) == (kind, detail)


def test_classify_error_leaves_other_errors_alone():
    assert classify_error("Duplicate entry 'x' for key 'PRIMARY'") is None


def test_every_signal_message_is_classified(galaxy):
    prefixes = re.findall(r"LAB_FAIL\((?:CONCAT\()?'([a-z ]+: )", galaxy["procedures"])
    assert prefixes and all(classify_error(p + "x") for p in prefixes)
