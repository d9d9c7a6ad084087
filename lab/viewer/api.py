"""The viewer's JSON API under `/api/v1`: recordings, filter options, index refresh status.

Same sign-in as the pages (the `viewer_session` cookie from `/login` or Okta OIDC); anonymous
requests get 401 JSON, never a redirect. The one write, `POST /api/v1/refresh`, also needs the
session's CSRF token in `X-CSRF-Token` (from `GET /api/v1/me`). Bad parameters get 400 with
every problem listed. Described by the OpenAPI 3.1 document `api_spec.SPEC`, served at
`/api/v1/openapi.json` and kept in `docs/viewer-api.json`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import wraps
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab.viewer.api_spec import SPEC
from lab.viewer.auth import current_user
from lab.viewer.index import FACETS, MAX_PER_PAGE, SORTS, Snapshot
from lab.viewer.names import Recording
from lab.viewer.pages import parse_query
from lab.viewer.security import csrf_ok, csrf_token

if TYPE_CHECKING:
    from lab.viewer.app import Viewer

PREFIX = "/api/v1"
_PARAMS = {*FACETS, "q", "from", "to", "tz", "sort", "order", "page", "per_page"}
Endpoint = Callable[[Request], Awaitable[Response]]


def _error(status: int, *problems: str) -> JSONResponse:
    return JSONResponse({"error": problems[0], "problems": list(problems)}, status_code=status)


def api_login_required(endpoint: Endpoint) -> Endpoint:
    """401 JSON for anonymous requests (the pages redirect to /login instead)."""

    @wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        if current_user(request) is None:
            return _error(401, "authentication required: sign in at /login first")
        return await endpoint(request)

    return wrapper


def _viewer(request: Request) -> Viewer:
    viewer: Viewer = request.app.state.viewer
    return viewer


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def recording_json(r: Recording) -> dict[str, Any]:
    """One recording as the API shows it (`Recording` in the OpenAPI document)."""
    query = urlencode({"id": r.id})
    return {
        "id": r.id,
        "name": r.name,
        "kind": r.kind,
        "protocol": r.protocol,
        "started": _time(r.started),
        "parsed": r.parsed,
        "team": r.team,
        "project": r.project,
        "server": r.server,
        "user": r.user,
        "part": r.part,
        "size": r.size,
        "media_type": r.media_type,
        "links": {"play": f"/play?{query}", "download": f"/download?{query}"},
    }


def _int(params: Any, name: str, default: int, hi: int, problems: list[str]) -> int:
    text = params.get(name)
    if text in (None, ""):
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= hi:
        problems.append(f"{name} must be a whole number from 1 to {hi}, not {str(text)[:20]!r}")
        return default
    return value


@api_login_required
async def recordings(request: Request) -> Response:
    """`GET /api/v1/recordings`: filter, search, sort, page (same semantics as `/sessions`)."""
    params = request.query_params
    problems = [f"unknown parameter {k[:40]!r}" for k in params if k not in _PARAMS]
    if params.get("order", "desc") not in ("asc", "desc"):
        problems.append("order must be asc or desc")
    page = _int(params, "page", 1, 1_000_000, problems)
    query, notes = parse_query(params)
    problems += notes
    if problems:
        return _error(400, *problems)
    query = replace(query, page=page)
    snap = _viewer(request).index.snapshot
    result = await run_in_threadpool(snap.query, query)
    return JSONResponse(
        {
            "items": [recording_json(r) for r in result.items],
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
            "per_page": result.per_page,
            "sort": query.sort,
            "order": "desc" if query.descending else "asc",
            "unknown_filters": [{"facet": f, "value": v} for f, v in result.unknown],
            "indexed_at": _time(snap.built_at),
        }
    )


@api_login_required
async def recording(request: Request) -> Response:
    """`GET /api/v1/recording?id=`: one recording from the index."""
    rid = request.query_params.get("id", "")
    found = _viewer(request).index.snapshot.get(rid)
    if found is None:
        return _error(404, "no such recording in the index")
    return JSONResponse(recording_json(found))


def filter_options_json(snap: Snapshot) -> dict[str, Any]:
    days = list(snap.by_day)
    return {
        "facets": {
            f: [{"value": v, "count": snap.facets[f][v]} for v in snap.values(f)] for f in FACETS if f in snap.facets
        },
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
        "sorts": list(SORTS),
        "max_per_page": MAX_PER_PAGE,
    }


@api_login_required
async def filter_options(request: Request) -> Response:
    """`GET /api/v1/filter-options`: every facet value with its count, and the day range."""
    return JSONResponse(filter_options_json(_viewer(request).index.snapshot))


def status_json(viewer: Viewer) -> dict[str, Any]:
    index = viewer.index
    snap = index.snapshot
    progress = index.progress
    fraction = None
    if progress.phase == "listing" and progress.expected:
        fraction = min(1.0, progress.listed / progress.expected)
    elif progress.phase == "indexing":
        fraction = 1.0
    return {
        "state": progress.phase,
        "refreshing": progress.phase != "idle",
        "progress": {
            "listed": progress.listed,
            "expected": progress.expected or None,
            "fraction": fraction,
            "started_at": _time(datetime.fromtimestamp(progress.started_at, UTC)) if progress.started_at else None,
        },
        "recordings": len(snap.recordings),
        "unparsed": snap.unparsed,
        "indexed_at": _time(snap.built_at),
        "seconds": round(snap.seconds, 3),
        "error": snap.error or None,
        "refresh_seconds": index.refresh_seconds,
        "storage": viewer.storage.describe(),
    }


@api_login_required
async def refresh_status(request: Request) -> Response:
    """`GET /api/v1/refresh`: is the index refreshing, how far, and the last result."""
    return JSONResponse(status_json(_viewer(request)))


@api_login_required
async def refresh_start(request: Request) -> Response:
    """`POST /api/v1/refresh`: start a refresh now (202); needs `X-CSRF-Token`."""
    if not csrf_ok(request, request.headers.get("x-csrf-token")):
        return _error(403, "invalid or missing X-CSRF-Token header; get the token from GET /api/v1/me")
    viewer = _viewer(request)
    viewer.index.request_refresh()
    if viewer.pam is not None:
        viewer.pam.request_refresh()
    return JSONResponse(status_json(viewer), status_code=202)


@api_login_required
async def me(request: Request) -> Response:
    """`GET /api/v1/me`: who is signed in, and the CSRF token for POST requests."""
    return JSONResponse({"user": current_user(request), "csrf_token": csrf_token(request)})


@api_login_required
async def openapi(request: Request) -> Response:
    """`GET /api/v1/openapi.json`: this API's OpenAPI 3.1 description."""
    return JSONResponse(SPEC)


async def not_found(request: Request) -> Response:
    return _error(404, f"no API endpoint {request.url.path}")


def routes() -> list[Route]:
    """The API's routes, for `create_app` to add before its catch-alls."""
    return [
        Route(f"{PREFIX}/recordings", recordings),
        Route(f"{PREFIX}/recording", recording),
        Route(f"{PREFIX}/filter-options", filter_options),
        Route(f"{PREFIX}/refresh", refresh_status, methods=["GET"]),
        Route(f"{PREFIX}/refresh", refresh_start, methods=["POST"]),
        Route(f"{PREFIX}/me", me),
        Route(f"{PREFIX}/openapi.json", openapi),
        Route(f"{PREFIX}/{{rest:path}}", api_login_required(not_found)),
    ]
