"""Database rows <-> SCIM User resources (RFC 7643 §4.1, §4.3 and the lab extension).

USERS columns map to core attributes (name, emails, phoneNumbers, addresses, title, ...), the
enterprise extension (employeeNumber, organization, department, manager) and, for the rest, the
lab extension schema. User entitlements are the core `entitlements` attribute (RFC 7643 §4.1.2).
The table stores one e-mail, one phone number and one address: the first (or primary) value of
each multi-valued attribute is kept.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lab.scim.errors import bad_request, invalid_syntax

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LAB = "urn:okta-lab:scim:schemas:extension:jdbc:2.0:User"
#: The URN Okta's "SCIM 2.0 with entitlements" integration discovers entitlement resource types by.
ENTITLEMENT = "urn:okta:scim:schemas:core:1.0:Entitlement"
#: The resource type name; also the `type` of every item of a user's `entitlements` (the
#: ENTITLEMENTS table has one kind of entitlement).
ENTITLEMENT_TYPE = "Entitlement"
USER_SCHEMAS = (CORE, ENTERPRISE, LAB)

#: Sub-attributes of each complex or multi-valued attribute the server stores.
COMPLEX: dict[str, tuple[str, ...]] = {
    "name": ("givenName", "familyName", "middleName"),
    "emails": ("value", "type"),
    "phoneNumbers": ("value", "type"),
    "addresses": ("streetAddress", "locality", "region", "postalCode", "country", "type"),
    "entitlements": ("value", "display", "type"),
    "manager": ("value", "displayName"),
}
MULTI = frozenset({"emails", "phoneNumbers", "addresses", "entitlements"})
CORE_SIMPLE = ("userName", "externalId", "displayName", "nickName", "title", "timezone", "active", "password")
ENTERPRISE_ATTRS = ("employeeNumber", "organization", "department", "manager")
LAB_ATTRS = ("hireDate", "terminationDate")
READ_ONLY = frozenset({"id", "meta"})
#: RFC 7643 §4.1 attributes accepted and ignored: the USERS table has no column for them.
IGNORED = frozenset(
    {
        "locale",
        "preferredlanguage",
        "profileurl",
        "usertype",
        "x509certificates",
        "ims",
        "photos",
        "roles",
        "groups",
    }
)
#: RFC 7643 §4.3 enterprise attributes accepted and ignored, likewise.
ENTERPRISE_IGNORED = frozenset({"costcenter", "division"})
TYPE_DEFAULTS = {"emails": "work", "phoneNumbers": "mobile", "addresses": "work"}

_ID_CHARS = re.compile(r"[^A-Za-z0-9._@+-]+")


def row_to_user(row: Mapping[str, Any], entitlements: Sequence[Mapping[str, Any]], location: str) -> dict[str, Any]:
    """One USERS row (+ its GET_USER_ENTITLEMENT rows) as a SCIM User resource."""
    s = {k.upper(): _text(v) for k, v in row.items()}
    user: dict[str, Any] = {"schemas": [CORE], "id": s.get("USER_ID"), "userName": s.get("USERNAME")}
    _put(user, "externalId", s.get("EXTERNALID"))
    name = _pack(givenName=s.get("FIRSTNAME"), familyName=s.get("LASTNAME"), middleName=s.get("MIDDLENAME"))
    _put(user, "name", name or None)
    for attr, col in (
        ("displayName", "DISPLAYNAME"),
        ("nickName", "NICKNAME"),
        ("title", "TITLE"),
        ("timezone", "TIMEZONE"),
    ):
        _put(user, attr, s.get(col))
    user["active"] = _truthy(row.get("IS_ACTIVE", row.get("is_active", True)))
    if s.get("EMAIL"):
        user["emails"] = [{"value": s["EMAIL"], "type": "work"}]
    if s.get("MOBILEPHONE"):
        user["phoneNumbers"] = [{"value": s["MOBILEPHONE"], "type": "mobile"}]
    address = _pack(
        streetAddress=s.get("STREETADDRESS"),
        locality=s.get("CITY"),
        region=s.get("STATE"),
        postalCode=s.get("ZIPCODE"),
        country=s.get("COUNTRYCODE"),
    )
    if address:
        user["addresses"] = [{**address, "type": "work"}]
    ents = [
        _pack(value=_text(e.get("ENT_ID")), display=_text(e.get("ENT_NAME")), type=ENTITLEMENT_TYPE)
        for e in entitlements
    ]
    if ents:
        user["entitlements"] = ents
    ent: dict[str, Any] = _pack(
        employeeNumber=s.get("EMPLOYEENUMBER"), organization=s.get("ORGANIZATION"), department=s.get("DEPARTMENT")
    )
    manager = _pack(value=s.get("MANAGERID"), displayName=s.get("MANAGER"))
    if manager:
        ent["manager"] = manager
    if ent:
        user[ENTERPRISE] = ent
        user["schemas"].append(ENTERPRISE)
    lab = _pack(hireDate=s.get("HIREDATE"), terminationDate=s.get("TERMINATIONDATE"))
    if lab:
        user[LAB] = lab
        user["schemas"].append(LAB)
    user["meta"] = {"resourceType": "User", "location": f"{location}/Users/{s.get('USER_ID')}"}
    return user


def entitlement_resource(row: Mapping[str, Any], location: str) -> dict[str, Any]:
    ent_id = _text(row.get("ENT_ID"))
    out: dict[str, Any] = {
        "schemas": [ENTITLEMENT],
        "id": ent_id,
        "type": ENTITLEMENT_TYPE,
        "displayName": _text(row.get("ENT_NAME")),
    }
    _put(out, "description", _text(row.get("ENT_DESCRIPTION")))
    out["meta"] = {"resourceType": "Entitlement", "location": f"{location}/Entitlements/{ent_id}"}
    return out


def canonical_user(body: Any, *, for_create: bool) -> dict[str, Any]:
    """Validate a request's User document and return it with canonical attribute names.

    Raises SCIM 400 errors: `invalidSyntax` for unknown attributes or schemas, `invalidValue` for
    wrong types. Read-only `id` and `meta` are returned as given (PUT ignores them, RFC 7644 §3.5.1).
    """
    if not isinstance(body, Mapping):
        raise invalid_syntax("the request body must be a JSON object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or CORE not in schemas:
        raise invalid_syntax(f"`schemas` must be a list that contains {CORE}")
    unknown = [s for s in schemas if s not in USER_SCHEMAS]
    if unknown:
        raise invalid_syntax(f"unknown schema {unknown[0]!r}")
    out: dict[str, Any] = {}
    for key, value in body.items():
        low = key.lower()
        if key == "schemas" or low in IGNORED:
            continue
        if low in ("id", "meta"):
            out[low] = value
            continue
        if key in (ENTERPRISE, LAB):
            out[key] = _extension(key, value)
            continue
        attr = _canon(key, CORE_SIMPLE + tuple(COMPLEX))
        if attr is None or attr == "manager":
            raise invalid_syntax(f"unknown attribute {key!r}")
        out[attr] = check_value(attr, value)
    if for_create and not isinstance(out.get("userName"), str):
        raise bad_request("userName is required")
    return out


def check_value(attr: str, value: Any) -> Any:
    """Type-check one attribute value (RFC 7643 §2.3) and canonicalise its sub-attributes."""
    if value is None:
        return None
    if attr == "active":
        if not isinstance(value, bool):
            raise bad_request("active must be true or false")
        return value
    if attr in MULTI:
        items = value if isinstance(value, list) else [value]
        return [_complex(attr, item) for item in items]
    if attr in COMPLEX:
        return _complex(attr, value)
    if not isinstance(value, str):
        raise bad_request(f"{attr} must be a string")
    if attr == "userName" and not value.strip():
        raise bad_request("userName must not be empty")
    return value


def user_to_columns(user: Mapping[str, Any], user_id: str) -> dict[str, Any]:
    """A canonical User document as USERS columns (the 24 CREATE/UPDATE_USER fields)."""
    name = user.get("name") or {}
    email = _first(user.get("emails"))
    phone = _first(user.get("phoneNumbers"))
    address = _first(user.get("addresses"))
    ent = user.get(ENTERPRISE) or {}
    manager = ent.get("manager") or {}
    return {
        "USER_ID": user_id,
        "USERNAME": user.get("userName"),
        "FIRSTNAME": name.get("givenName") or "",
        "LASTNAME": name.get("familyName") or "",
        "EMAIL": email.get("value") or "",
        "MIDDLENAME": name.get("middleName"),
        "DISPLAYNAME": user.get("displayName"),
        "NICKNAME": user.get("nickName"),
        "MOBILEPHONE": phone.get("value"),
        "STREETADDRESS": address.get("streetAddress"),
        "CITY": address.get("locality"),
        "STATE": address.get("region"),
        "ZIPCODE": address.get("postalCode"),
        "COUNTRYCODE": address.get("country"),
        "TIMEZONE": user.get("timezone"),
        "ORGANIZATION": ent.get("organization"),
        "DEPARTMENT": ent.get("department"),
        "MANAGERID": manager.get("value"),
        "MANAGER": manager.get("displayName"),
        "TITLE": user.get("title"),
        "EMPLOYEENUMBER": ent.get("employeeNumber"),
        "HIREDATE": None,  # readOnly in the lab extension: loaded with the company data
        "TERMINATIONDATE": None,  # readOnly: set by the deactivate/activate operations
        "PASSWORD_HASH": None,
    }


def derive_user_id(user_name: str, attempt: int = 0) -> str:
    """A USER_ID in the lab's style (the login itself); `attempt` > 0 adds a `~N` suffix."""
    base = _ID_CHARS.sub("-", user_name.strip())[:90] or "user"
    return base if attempt == 0 else f"{base}~{attempt}"


def hash_password(password: str) -> str:
    """An LDAP-style `{SSHA}` hash (salted SHA-1) for PASSWORD_HASH; the password is not kept."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def is_ignored(scope: str, key: str) -> bool:
    """Whether `key` (in the core schema, `scope=""`, or an extension) is accepted and not stored."""
    low = key.lower()
    if scope == ENTERPRISE:
        return low in ENTERPRISE_IGNORED
    return not scope and low in IGNORED


def attribute_names(scope: str) -> tuple[str, ...]:
    """Attribute names of the core schema (`scope=""`) or of an extension URN."""
    if scope == ENTERPRISE:
        return ENTERPRISE_ATTRS
    if scope == LAB:
        return LAB_ATTRS
    return CORE_SIMPLE + tuple(a for a in COMPLEX if a != "manager")


def canon_attr(scope: str, key: str) -> str:
    """The canonical spelling of attribute `key` in `scope`; SCIM 400 if unknown."""
    attr = _canon(key, attribute_names(scope))
    if attr is None:
        raise bad_request(f"unknown attribute {key!r}", "noTarget")
    return attr


def check_scoped(scope: str, attr: str, value: Any) -> Any:
    """Type-check a value for `attr` in the core schema or an extension."""
    if scope:
        return _extension(scope, {attr: value})[attr]
    return check_value(attr, value)


def sub_names(attr: str) -> tuple[str, ...]:
    return COMPLEX.get(attr, ())


def _extension(urn: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise bad_request(f"{urn} must be an object")
    names = ENTERPRISE_ATTRS if urn == ENTERPRISE else LAB_ATTRS
    out: dict[str, Any] = {}
    for key, sub in value.items():
        if key == "schemas" or is_ignored(urn, key):
            continue
        attr = _canon(key, names)
        if attr is None:
            raise invalid_syntax(f"unknown attribute {urn}:{key}")
        if attr == "manager":
            out[attr] = _complex("manager", sub) if sub is not None else None
        elif sub is not None and not isinstance(sub, str):
            raise bad_request(f"{attr} must be a string")
        else:
            out[attr] = sub
    return out


def _complex(attr: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        if attr == "entitlements" and isinstance(value, str | int):
            return {"value": str(value)}
        raise bad_request(f"{attr} values must be objects")
    out: dict[str, Any] = {}
    for key, sub in value.items():
        name = _canon(key, COMPLEX[attr])
        if name is None:
            if key.lower() in ("primary", "display", "formatted", "$ref", "honorificprefix", "honorificsuffix"):
                continue  # standard sub-attributes the table has no column for
            raise invalid_syntax(f"unknown attribute {attr}.{key}")
        if sub is not None and not isinstance(sub, str):
            if name == "value" and attr == "entitlements" and isinstance(sub, int):
                sub = str(sub)
            else:
                raise bad_request(f"{attr}.{name} must be a string")
        out[name] = sub
    return out


def _canon(key: str, names: tuple[str, ...]) -> str | None:
    low = key.lower()
    return next((n for n in names if n.lower() == low), None)


def _first(values: Any) -> dict[str, Any]:
    return dict(values[0]) if isinstance(values, list) and values else {}


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:  # most columns: no conversion (a list page maps 2,500 values)
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value not in ("0", "", "false")
    return bool(value)


def _pack(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, ""):
        target[key] = value
