"""The OpenAPI 3.1 description of the viewer's JSON API (`lab/viewer/api.py`).

Served at `/api/v1/openapi.json`; `docs/viewer-api.json` is this document as indented JSON
(`tests/unit/test_viewer_api.py` keeps the two equal and says how to rewrite the file).
"""

from __future__ import annotations

from typing import Any

from lab.viewer.index import FACETS, MAX_PER_PAGE, SORTS

_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC, microseconds, `Z`"}


_BOUND = (
    "a day `YYYY-MM-DD` or an ISO 8601 date-time `YYYY-MM-DDTHH:MM[:SS[.ffffff]]`, optionally ending in `Z` "
    "or `±HH:MM` (without: read in `tz`, default UTC). `from` is the first instant named; `to` covers the "
    "whole day, minute or second it names (microseconds: exactly that instant). Compared with each "
    "recording's exact start (microseconds); `from` after `to` is a 400."
)
_BOUND_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_ERRORS = {
    "401": {"$ref": "#/components/responses/Unauthorized"},
}

_LIST_PARAMS = [
    *[_query(f, f"Only recordings whose {f} is exactly this value.", _STR) for f in FACETS],
    _query("q", "Case-insensitive substring of the name, team, project, server or user.", {"type": "string"}),
    _query("from", "Start, inclusive: " + _BOUND, {"type": "string", "pattern": _BOUND_PATTERN}),
    _query("to", "End, inclusive to its precision: " + _BOUND, {"type": "string", "pattern": _BOUND_PATTERN}),
    _query("tz", "IANA time zone (`Europe/Paris`) for `from`/`to` without an offset; default UTC.", _STR),
    _query("sort", "Sort column; `started` keeps sub-second order.", {"type": "string", "enum": list(SORTS)}),
    _query("order", "Sort direction.", {"type": "string", "enum": ["asc", "desc"], "default": "desc"}),
    _query("page", "1-based page; past the end gives the last page.", {"type": "integer", "minimum": 1, "default": 1}),
    _query("per_page", "Page size.", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}),
]

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "okta-lab session viewer API",
        "version": "1",
        "description": (
            "Read the recording index of the okta-lab session viewer. Sign in first (`/login`, local "
            "account or Okta OIDC) and send the `viewer_session` cookie; `POST` also needs the "
            "`X-CSRF-Token` header from `GET /api/v1/me`. Times are UTC."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"session": []}],
    "paths": {
        "/api/v1/recordings": {
            "get": {
                "operationId": "listRecordings",
                "summary": "Recordings, filtered, searched, sorted and paged",
                "parameters": _LIST_PARAMS,
                "responses": {
                    "200": _json(_ref("RecordingPage"), "One page of recordings."),
                    "400": {"$ref": "#/components/responses/BadRequest"},
                    **_ERRORS,
                },
            }
        },
        "/api/v1/recording": {
            "get": {
                "operationId": "getRecording",
                "summary": "One recording from the index",
                "parameters": [{**_query("id", "The recording id (its storage key).", _STR), "required": True}],
                "responses": {
                    "200": _json(_ref("Recording"), "The recording."),
                    "404": _json(_ref("Error"), "Not in the index."),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/filter-options": {
            "get": {
                "operationId": "getFilterOptions",
                "summary": "Every value of every facet with its count, and the day range",
                "responses": {"200": _json(_ref("FilterOptions"), "The options."), **_ERRORS},
            }
        },
        "/api/v1/refresh": {
            "get": {
                "operationId": "getRefreshStatus",
                "summary": "Index refresh status with progress",
                "responses": {"200": _json(_ref("RefreshStatus"), "The status."), **_ERRORS},
            },
            "post": {
                "operationId": "startRefresh",
                "summary": "Start an index refresh now",
                "parameters": [
                    {
                        "name": "X-CSRF-Token",
                        "in": "header",
                        "required": True,
                        "description": "The session's CSRF token (`GET /api/v1/me`).",
                        "schema": _STR,
                    }
                ],
                "responses": {
                    "202": _json(_ref("RefreshStatus"), "Refresh requested; poll `GET /api/v1/refresh`."),
                    "403": _json(_ref("Error"), "Missing or wrong CSRF token."),
                    **_ERRORS,
                },
            },
        },
        "/api/v1/me": {
            "get": {
                "operationId": "getMe",
                "summary": "The signed-in user and the CSRF token",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["user", "csrf_token"],
                            "properties": {"user": _STR, "csrf_token": _STR},
                        },
                        "The user.",
                    ),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1."), **_ERRORS},
            }
        },
    },
    "components": {
        "securitySchemes": {
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "viewer_session",
                "description": "The signed session cookie set by `/login` or the OIDC callback.",
            }
        },
        "responses": {
            "Unauthorized": _json(_ref("Error"), "Not signed in."),
            "BadRequest": _json(_ref("Error"), "Bad parameters; `problems` lists each."),
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "problems"],
                "properties": {"error": _STR, "problems": {"type": "array", "items": _STR}},
            },
            "Recording": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "id",
                    "name",
                    "kind",
                    "protocol",
                    "started",
                    "parsed",
                    "team",
                    "project",
                    "server",
                    "user",
                    "part",
                    "size",
                    "media_type",
                    "links",
                ],  # fmt: skip
                "properties": {
                    "id": {"type": "string", "description": "Storage key relative to the root or prefix."},
                    "name": _STR,
                    "kind": {"type": "string", "enum": ["cast", "video"]},
                    "protocol": {"type": "string", "enum": ["ssh", "rdp"]},
                    "started": {**_TIME, "type": "string"},
                    "parsed": {"type": "boolean", "description": "The name follows the gateway convention."},
                    "team": _STR,
                    "project": _STR,
                    "server": _STR,
                    "user": _STR,
                    "part": {"type": "integer", "minimum": 0, "description": "N of `.asa-N.mkv`; 0 otherwise."},
                    "size": {"type": "integer", "minimum": 0, "description": "Bytes."},
                    "media_type": _STR,
                    "links": {
                        "type": "object",
                        "required": ["play", "download"],
                        "properties": {"play": _STR, "download": _STR},
                    },
                },
            },
            "RecordingPage": {
                "type": "object",
                "required": ["items", "total", "page", "pages", "per_page", "sort", "order", "unknown_filters"],
                "properties": {
                    "items": {"type": "array", "items": _ref("Recording")},
                    "total": {"type": "integer", "minimum": 0},
                    "page": {"type": "integer", "minimum": 1},
                    "pages": {"type": "integer", "minimum": 1},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                    "sort": {"type": "string", "enum": list(SORTS)},
                    "order": {"type": "string", "enum": ["asc", "desc"]},
                    "unknown_filters": {
                        "type": "array",
                        "description": "Filter values no recording has (the page is then empty).",
                        "items": {
                            "type": "object",
                            "required": ["facet", "value"],
                            "properties": {"facet": _STR, "value": _STR},
                        },
                    },
                    "indexed_at": _TIME,
                },
            },
            "FilterOptions": {
                "type": "object",
                "required": ["facets", "first_day", "last_day", "sorts", "max_per_page"],
                "properties": {
                    "facets": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["value", "count"],
                                "properties": {"value": _STR, "count": {"type": "integer", "minimum": 1}},
                            },
                        },
                    },
                    "first_day": {**_NULL_STR, "format": "date"},
                    "last_day": {**_NULL_STR, "format": "date"},
                    "sorts": {"type": "array", "items": _STR},
                    "max_per_page": {"type": "integer"},
                },
            },
            "RefreshStatus": {
                "type": "object",
                "required": ["state", "refreshing", "progress", "recordings", "indexed_at", "error"],
                "properties": {
                    "state": {"type": "string", "enum": ["idle", "listing", "indexing"]},
                    "refreshing": {"type": "boolean"},
                    "progress": {
                        "type": "object",
                        "required": ["listed", "expected", "fraction", "started_at"],
                        "properties": {
                            "listed": {"type": "integer", "minimum": 0, "description": "Objects listed so far."},
                            "expected": {
                                "type": ["integer", "null"],
                                "description": "Size of the last good index (the likely total); null before it.",
                            },
                            "fraction": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                            "started_at": _TIME,
                        },
                    },
                    "recordings": {"type": "integer", "minimum": 0},
                    "unparsed": {"type": "integer", "minimum": 0},
                    "indexed_at": _TIME,
                    "seconds": {"type": "number", "description": "How long the last refresh took."},
                    "error": {**_NULL_STR, "description": "Why the last refresh failed (the old index is kept)."},
                    "refresh_seconds": {"type": "integer"},
                    "storage": _STR,
                },
            },
        },
    },
}
