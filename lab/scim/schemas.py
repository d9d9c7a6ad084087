"""Discovery documents: /ServiceProviderConfig, /Schemas, /ResourceTypes (RFC 7644 §4).

The schemas publish exactly the attributes the USERS table stores (RFC 7643 §7 lets a service
provider publish a subset), so a client learns what will round-trip. FIRSTNAME, LASTNAME and
EMAIL are NOT NULL in the table: `name.givenName`, `name.familyName` and `emails` are required.
"""

from __future__ import annotations

from typing import Any

from scim2_models import ResourceType, Schema, ServiceProviderConfig

from lab.scim.mapping import CORE, ENTERPRISE, ENTITLEMENT, ENTITLEMENT_TYPE, LAB

SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
DOCS_URL = "https://github.com/okta-lab/okta-lab/blob/main/docs/scim.md"


def _attr(
    name: str,
    type_: str = "string",
    *,
    multi: bool = False,
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    sub: list[dict[str, Any]] | None = None,
    canonical: list[str] | None = None,
    description: str = "",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if sub is not None:
        out["subAttributes"] = sub
    if canonical:
        out["canonicalValues"] = canonical
    return out


def user_schema(entitlement_ids: list[str] | None = None) -> dict[str, Any]:
    name = [
        _attr("givenName", required=True, description="FIRSTNAME"),
        _attr("familyName", required=True, description="LASTNAME"),
        _attr("middleName", description="MIDDLENAME"),
    ]
    email = [_attr("value", required=True, description="EMAIL"), _attr("type", canonical=["work"])]
    phone = [_attr("value", description="MOBILEPHONE"), _attr("type", canonical=["mobile"])]
    address = [
        _attr("streetAddress", description="STREETADDRESS"),
        _attr("locality", description="CITY"),
        _attr("region", description="STATE"),
        _attr("postalCode", description="ZIPCODE (at most 20 characters)"),
        _attr("country", description="COUNTRYCODE (at most 10 characters)"),
        _attr("type", canonical=["work"]),
    ]
    entitlement = [
        _attr("value", canonical=entitlement_ids, description="ENT_ID (or ENT_NAME on input)"),
        _attr("display", mutability="readOnly", returned="request", description="ENT_NAME"),
        _attr("type", canonical=[ENTITLEMENT_TYPE], description="the entitlement's resource type (not stored)"),
    ]
    attributes = [
        _attr("userName", required=True, uniqueness="server", description="USERNAME"),
        _attr("externalId", case_exact=True, description="EXTERNALID"),
        _attr("name", "complex", required=True, sub=name),
        _attr("displayName", description="DISPLAYNAME"),
        _attr("nickName", description="NICKNAME"),
        _attr("title", description="TITLE"),
        _attr("timezone", description="TIMEZONE"),
        _attr("active", "boolean", description="IS_ACTIVE"),
        _attr("password", mutability="writeOnly", returned="never", description="PASSWORD_HASH"),
        _attr("emails", "complex", multi=True, required=True, sub=email),
        _attr("phoneNumbers", "complex", multi=True, sub=phone),
        _attr("addresses", "complex", multi=True, sub=address),
        _attr("entitlements", "complex", multi=True, sub=entitlement),
    ]
    return _schema(CORE, "User", "User Account (the USERS table)", attributes)


def enterprise_schema() -> dict[str, Any]:
    manager = [
        _attr("value", description="MANAGERID"),
        _attr("displayName", mutability="readOnly", description="MANAGER"),
    ]
    attributes = [
        _attr("employeeNumber", description="EMPLOYEENUMBER"),
        _attr("organization", description="ORGANIZATION"),
        _attr("department", description="DEPARTMENT"),
        _attr("manager", "complex", sub=manager),
    ]
    return _schema(ENTERPRISE, "EnterpriseUser", "Enterprise User", attributes)


def lab_schema() -> dict[str, Any]:
    attributes = [
        _attr("hireDate", mutability="readOnly", description="HIREDATE (YYYY-MM-DD)"),
        _attr("terminationDate", mutability="readOnly", description="TERMINATIONDATE"),
    ]
    return _schema(LAB, "LabUser", "The lab's USERS columns with no SCIM core attribute", attributes)


def entitlement_schema() -> dict[str, Any]:
    attributes = [
        _attr("displayName", mutability="readOnly", description="ENT_NAME"),
        _attr("type", mutability="readOnly", description=f"always {ENTITLEMENT_TYPE!r}"),
        _attr("description", mutability="readOnly", description="ENT_DESCRIPTION"),
    ]
    return _schema(ENTITLEMENT, "Entitlement", "An entitlement (the ENTITLEMENTS table)", attributes)


def all_schemas(location: str, entitlement_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every schema; `entitlement_ids` become the canonical values of `entitlements.value`."""
    out = []
    docs = (user_schema(entitlement_ids), enterprise_schema(), lab_schema(), entitlement_schema())
    for doc in docs:
        doc["meta"] = {"resourceType": "Schema", "location": f"{location}/Schemas/{doc['id']}"}
        out.append(Schema.model_validate(doc).model_dump(exclude_none=True))
    return out


def resource_types(location: str) -> list[dict[str, Any]]:
    docs = [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "Users of the lab database",
            "schema": CORE,
            "schemaExtensions": [
                {"schema": ENTERPRISE, "required": False},
                {"schema": LAB, "required": False},
            ],
            "meta": {"resourceType": "ResourceType", "location": f"{location}/ResourceTypes/User"},
        },
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Entitlement",
            "name": "Entitlement",
            "endpoint": "/Entitlements",
            "description": "Entitlements (read-only)",
            "schema": ENTITLEMENT,
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{location}/ResourceTypes/Entitlement",
            },
        },
    ]
    return [ResourceType.model_validate(d).model_dump(exclude_none=True) for d in docs]


def service_provider_config(location: str, max_results: int) -> dict[str, Any]:
    """RFC 7643 §5."""
    doc = {
        "schemas": [SPC],
        "documentationUri": DOCS_URL,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results},
        "changePassword": {"supported": True},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "Authorization: Bearer <token> (see `lab creds scim`)",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{location}/ServiceProviderConfig"},
    }
    return ServiceProviderConfig.model_validate(doc).model_dump(exclude_none=True)


def _schema(urn: str, name: str, description: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
    }
