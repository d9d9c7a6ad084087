"""SCIM errors (RFC 7644 §3.12): one exception type, rendered as a SCIM `Error` body."""

from __future__ import annotations

from typing import Any

from scim2_models import Error


class ScimError(Exception):
    """An error the client gets as `{"status", "scimType", "detail"}` (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> dict[str, Any]:
        error = Error(status=self.status, scim_type=self.scim_type, detail=self.detail)
        return error.model_dump(exclude_none=True)


def bad_request(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def invalid_syntax(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidSyntax")


def invalid_filter(detail: str) -> ScimError:
    return ScimError(400, detail, "invalidFilter")


def mutability(detail: str) -> ScimError:
    return ScimError(400, detail, "mutability")


def not_found(detail: str) -> ScimError:
    return ScimError(404, detail)


def conflict(detail: str) -> ScimError:
    return ScimError(409, detail, "uniqueness")


def unauthorized(detail: str = "a valid bearer token is required") -> ScimError:
    return ScimError(401, detail)
