"""Rows <-> SCIM resources, request validation, PATCH, projection, the on-prem header, secrets."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pymysql
import pytest

from lab.scim.backend import encode_onprem_header, parse_onprem_header
from lab.scim.db import DbTarget, map_db_error
from lab.scim.errors import ScimError
from lab.scim.mapping import CORE, ENTERPRISE, LAB, canonical_user, row_to_user, user_to_columns
from lab.scim.operations import load_operations
from lab.scim.patch import PATCH_OP, apply_patch
from lab.scim.projection import project
from lab.scim.security import ensure_certificate, ensure_token, token_matches

ROW: dict[str, Any] = {
    "USER_ID": "luke@galaxy.local", "USERNAME": "luke@galaxy.local", "FIRSTNAME": "Luke",
    "LASTNAME": "Skywalker", "MIDDLENAME": None, "EMAIL": "luke@galaxy.local", "DISPLAYNAME": "Luke",
    "NICKNAME": "", "MOBILEPHONE": "+1 555", "STREETADDRESS": "Tatooine", "CITY": "Anchorhead",
    "STATE": None, "ZIPCODE": "0001", "COUNTRYCODE": "TT", "TIMEZONE": None, "ORGANIZATION": "Jedi",
    "DEPARTMENT": "JEDI-COUNCIL", "MANAGERID": "obiwan@galaxy.local", "MANAGER": "Obi-Wan Kenobi",
    "TITLE": "Jedi Knight", "EMPLOYEENUMBER": "10021", "HIREDATE": dt.date(2025, 1, 15),
    "TERMINATIONDATE": None, "PASSWORD_HASH": "{SSHA}x", "IS_ACTIVE": 1,
}  # fmt: skip
ENTS = [{"ENT_ID": 1, "ENT_NAME": "VPN Access"}, {"ENT_ID": 3, "ENT_NAME": "AWS Console"}]


def user() -> dict[str, Any]:
    return row_to_user(ROW, ENTS, "https://h/scim/v2")


def test_row_maps_to_core_enterprise_and_lab_attributes() -> None:
    u = user()
    assert u["schemas"] == [CORE, ENTERPRISE, LAB]
    assert u["id"] == "luke@galaxy.local" and u["active"] is True
    assert u["name"] == {"givenName": "Luke", "familyName": "Skywalker"}
    assert u["emails"] == [{"value": "luke@galaxy.local", "type": "work"}]
    assert u["phoneNumbers"] == [{"value": "+1 555", "type": "mobile"}]
    assert u["addresses"][0]["locality"] == "Anchorhead" and u["addresses"][0]["country"] == "TT"
    assert u[ENTERPRISE]["manager"] == {"value": "obiwan@galaxy.local", "displayName": "Obi-Wan Kenobi"}
    assert u[ENTERPRISE]["employeeNumber"] == "10021"
    assert u[LAB] == {"hireDate": "2025-01-15"}
    assert u["entitlements"] == [
        {"value": "1", "display": "VPN Access", "type": "Entitlement"},
        {"value": "3", "display": "AWS Console", "type": "Entitlement"},
    ]
    assert "password" not in u and "PASSWORD_HASH" not in json.dumps(u)
    assert "nickName" not in u  # empty string = absent
    assert u["meta"]["location"] == "https://h/scim/v2/Users/luke@galaxy.local"


def test_columns_round_trip() -> None:
    cols = user_to_columns(canonical_user({k: v for k, v in user().items() if k != "meta"}, for_create=True), "X")
    assert cols["USER_ID"] == "X"
    for key in ("USERNAME", "FIRSTNAME", "LASTNAME", "EMAIL", "MOBILEPHONE", "CITY", "ZIPCODE", "TITLE", "MANAGERID"):
        assert cols[key] == ROW[key], key
    assert cols["HIREDATE"] is None and cols["TERMINATIONDATE"] is None  # read-only, kept by the database
    assert len(cols) == 24


@pytest.mark.parametrize(
    ("body", "scim_type", "message"),
    [
        ([], "invalidSyntax", "JSON object"),
        ({"userName": "a"}, "invalidSyntax", "schemas"),
        ({"schemas": [CORE, "urn:x:y"], "userName": "a"}, "invalidSyntax", "unknown schema"),
        ({"schemas": [CORE], "userName": "a", "favouriteColour": "red"}, "invalidSyntax", "unknown attribute"),
        ({"schemas": [CORE], "userName": "a", "name": {"nick": "x"}}, "invalidSyntax", "unknown attribute name.nick"),
        ({"schemas": [CORE], "userName": 5}, "invalidValue", "userName must be a string"),
        ({"schemas": [CORE], "userName": "a", "active": "yes"}, "invalidValue", "active must be"),
        ({"schemas": [CORE], "userName": "  "}, "invalidValue", "must not be empty"),
        ({"schemas": [CORE]}, "invalidValue", "userName is required"),
        ({"schemas": [CORE], "userName": "a", "emails": "x@y"}, "invalidValue", "must be objects"),
    ],
)
def test_bad_documents_are_scim_400(body: Any, scim_type: str, message: str) -> None:
    with pytest.raises(ScimError) as err:
        canonical_user(body, for_create=True)
    assert err.value.status == 400 and err.value.scim_type == scim_type
    assert message in err.value.detail


def test_known_but_unstored_attributes_are_accepted() -> None:
    doc = canonical_user({"schemas": [CORE], "userName": "a", "externalId": "e1", "locale": "en"}, for_create=True)
    assert doc == {"userName": "a", "externalId": "e1"}  # externalId has its column (EXTERNALID)


def test_enterprise_attributes_without_a_column_are_accepted_and_ignored() -> None:
    """costCenter and division (RFC 7643 §4.3) are ignored like locale: in POST/PUT and PATCH alike."""
    extra = {"costCenter": "4130", "division": "Theme Park", "department": "D"}
    doc = canonical_user({"schemas": [CORE, ENTERPRISE], "userName": "a", ENTERPRISE: extra}, for_create=True)
    assert doc == {"userName": "a", ENTERPRISE: {"department": "D"}}
    base = {"userName": "a", ENTERPRISE: {"department": "D"}}
    for op in (
        {"op": "replace", "path": f"{ENTERPRISE}:costCenter", "value": "1"},
        {"op": "add", "value": {f"{ENTERPRISE}:division": "x"}},
        {"op": "replace", "value": {ENTERPRISE: {"costCenter": "1", "division": "x"}}},
        {"op": "replace", "path": ENTERPRISE, "value": {"costCenter": "1"}},
        {"op": "remove", "path": f"{ENTERPRISE}:costCenter"},
        {"op": "replace", "value": {"locale": "en", "externalId": "e2"}},
    ):
        out = apply_patch(base, _patch(op))
        assert out[ENTERPRISE] == {"department": "D"}, op
    assert apply_patch(base, _patch({"op": "replace", "value": {"externalId": "e2"}}))["externalId"] == "e2"


def test_entitlement_items_with_type_display_and_primary_are_accepted() -> None:
    """RFC 7643 §2.4 sub-attributes; Okta's governance apps send `type`."""
    items = [{"value": "1", "type": "Entitlement", "display": "VPN Access", "primary": True}, {"value": 3}]
    doc = canonical_user({"schemas": [CORE], "userName": "a", "entitlements": items}, for_create=True)
    assert doc["entitlements"] == [{"value": "1", "type": "Entitlement", "display": "VPN Access"}, {"value": "3"}]
    out = apply_patch({"userName": "a"}, _patch({"op": "add", "path": "entitlements", "value": items[:1]}))
    assert [e["value"] for e in out["entitlements"]] == ["1"]


def _patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def test_patch_replace_add_remove() -> None:
    base = {k: v for k, v in user().items() if k not in ("meta", "schemas", "id")}
    out = apply_patch(
        base,
        _patch(
            {"op": "Replace", "path": "title", "value": "Master"},
            {"op": "replace", "value": {"active": False, "name": {"middleName": "L"}}},
            {"op": "add", "path": "entitlements", "value": [{"value": "5"}, {"value": "1"}]},
            {"op": "remove", "path": 'entitlements[value eq "3"]'},
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "RESISTANCE"},
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "l@g.local"},
        ),
    )
    assert out["title"] == "Master" and out["active"] is False
    assert out["name"] == {"givenName": "Luke", "familyName": "Skywalker", "middleName": "L"}
    assert [e["value"] for e in out["entitlements"]] == ["1", "5"]
    assert out[ENTERPRISE]["department"] == "RESISTANCE"
    assert out["emails"] == [{"value": "l@g.local", "type": "work"}]
    assert base["title"] == "Jedi Knight"  # input untouched


@pytest.mark.parametrize(
    ("ops", "status_type"),
    [
        ([{"op": "replace", "path": "id", "value": "other"}], "mutability"),
        ([{"op": "replace", "value": {"id": "other"}}], "mutability"),
        ([{"op": "replace", "path": f"{LAB}:hireDate", "value": "2020-01-01"}], "mutability"),
        # the same read-only attributes without a path: the same answer (RFC 7644 §3.5.2)
        ([{"op": "replace", "value": {LAB: {"hireDate": "2020-01-01"}}}], "mutability"),
        ([{"op": "add", "value": {f"{LAB}:terminationDate": "2020-01-01"}}], "mutability"),
        ([{"op": "replace", "path": LAB, "value": {"hireDate": "2020-01-01"}}], "mutability"),
        ([{"op": "remove", "path": LAB}], "mutability"),
        ([{"op": "remove", "path": "userName"}], "invalidValue"),
        ([{"op": "remove"}], "noTarget"),
        ([{"op": "move", "path": "title"}], "invalidSyntax"),
        ([{"op": "replace", "path": "shoeSize", "value": 1}], "noTarget"),
        ([{"op": "remove", "path": 'emails[type eq "home"]'}], "noTarget"),
        ([{"op": "remove", "path": "emails[type like 1]"}], "invalidFilter"),
        ([], "invalidSyntax"),
    ],
)
def test_bad_patches(ops: list[dict[str, Any]], status_type: str) -> None:
    with pytest.raises(ScimError) as err:
        apply_patch({"userName": "a", "emails": [{"value": "a@b", "type": "work"}]}, _patch(*ops))
    assert err.value.status == 400 and err.value.scim_type == status_type


def test_patch_requires_patchop_schema() -> None:
    with pytest.raises(ScimError, match="PatchOp"):
        apply_patch({}, {"Operations": [{"op": "add", "path": "title", "value": "x"}]})


def test_projection() -> None:
    u = user()
    only = project(u, ["userName", "name.givenName", f"{ENTERPRISE}:department"], [])
    assert set(only) == {"schemas", "id", "meta", "userName", "name", ENTERPRISE}
    assert only["name"] == {"givenName": "Luke"} and only[ENTERPRISE] == {"department": "JEDI-COUNCIL"}
    dropped = project(u, [], ["emails", "name.familyName"])
    assert "emails" not in dropped and dropped["name"] == {"givenName": "Luke"} and "id" in dropped
    assert all("display" not in e for e in project(u, [], [])["entitlements"])  # returned: request
    assert project(u, ["entitlements.display"], [])["entitlements"][0] == {"display": "VPN Access"}


def test_onprem_header_is_decoded_and_validated() -> None:
    base = load_operations()
    header = encode_onprem_header(
        {
            "jdbcUrl": "jdbc:mysql://db.example:3307/other?allowMultiQueries=true",
            "username": "u",
            "password": "p",
            "operations": {"get_users": {"kind": "sql", "statement": "SELECT * FROM USERS", "params": []}},
        }
    )
    target, ops = parse_onprem_header(header, base)
    assert target == DbTarget("db.example", 3307, "other", "u", "p")
    assert ops["get_users"].kind == "sql" and ops["get_users"].statement == "SELECT * FROM USERS"
    assert ops["get_user_by_id"] == base["get_user_by_id"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("%%%not-base64", "not valid base64"),
        (base64.b64encode(b"not json").decode(), "X-OKTA-ONPREM-DATA is not valid JSON"),
        (base64.b64encode(b"[" * 12000).decode(), "deeper than 32 levels"),  # was a RecursionError
        (base64.b64encode(b"[1, 2]").decode(), "JSON object"),
        (encode_onprem_header({"username": "u"}), "no jdbcUrl"),
        (encode_onprem_header({"jdbcUrl": "postgres://x/y"}), "must look like jdbc:mysql"),
        (encode_onprem_header({"jdbcUrl": "jdbc:mysql://h:99999/db"}), "invalid port"),
        (encode_onprem_header({"jdbcUrl": "jdbc:mysql://h/db;drop"}), "database name"),
        (encode_onprem_header({"jdbcUrl": "jdbc:mysql://h/db", "operations": {"nope": {}}}), "unknown operation"),
        ("A" * 20000, "larger than"),
    ],
)
def test_malformed_onprem_headers_are_400(value: str, message: str) -> None:
    with pytest.raises(ScimError) as err:
        parse_onprem_header(value, load_operations())
    assert err.value.status == 400 and message in err.value.detail


@pytest.mark.parametrize(
    ("code", "message", "status", "scim_type"),
    [
        (1644, "unknown user: X", 404, None),
        (1644, "duplicate user: X already exists", 409, "uniqueness"),
        (1644, "missing mandatory field: FIRSTNAME", 400, "invalidValue"),
        (1644, "unknown entitlement: 99", 400, "invalidValue"),
        (1062, "Duplicate entry 'x' for key 'UQ'", 409, "uniqueness"),
        (1406, "Data too long for column 'p_zipcode' at row 0", 400, "invalidValue"),
        (1305, "PROCEDURE oktademo.NOPE does not exist", 500, None),
        (2003, "Can't connect to MySQL server", 503, None),
    ],
)
def test_database_errors_map_to_scim(code: int, message: str, status: int, scim_type: str | None) -> None:
    err = map_db_error(load_operations()["create_user"], pymysql.err.OperationalError(code, message))
    assert (err.status, err.scim_type) == (status, scim_type)
    assert "Traceback" not in err.detail


def test_token_and_certificate_are_generated_once(tmp_path: Path) -> None:
    token = ensure_token(tmp_path)
    assert len(token) == 48 and ensure_token(tmp_path) == token
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
    cert, key = ensure_certificate(tmp_path)
    before = cert.read_bytes()
    assert ensure_certificate(tmp_path) == (cert, key) and cert.read_bytes() == before
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert token_matches(f"Bearer {token}", token) and token_matches(f"bearer {token}", token)
    assert not token_matches(f"Bearer {token}x", token)
    assert not token_matches(token, token) and not token_matches(None, token)
    assert not token_matches(f"Basic {token}", token)
