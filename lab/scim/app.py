"""The SCIM 2.0 HTTP application (RFC 7644), built by `create_app(config, backend)`.

Routes are served twice: under `/scim/v2` and under the On-prem SCIM Server's shape
`/ws/rest/{app}/scim/v2`. Every route except `Status` requires the bearer token (RFC 6750).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from lab.scim.backend import Backend, ServerConfig
from lab.scim.bodies import parse_json
from lab.scim.errors import ScimError, bad_request, invalid_syntax, not_found, unauthorized
from lab.scim.filters import parse_filter
from lab.scim.projection import parse_attribute_list, project
from lab.scim.schemas import all_schemas, resource_types, service_provider_config
from lab.scim.security import token_matches
from lab.scim.service import Page, UserService

log = logging.getLogger("lab.scim")

SCIM_JSON = "application/scim+json"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ONPREM_HEADER = "x-okta-onprem-data"
STATUS_TEXT = "Scim Server is running."

Handler = Callable[..., Any]  # (request, service[, body]) -> resource | None


try:  # orjson (the `scim` extra): 7x faster than json on a user, 15x on a page of 100 (docs/scim.md)
    import orjson

    def _dumps(content: Any) -> bytes:
        return orjson.dumps(content)

except ImportError:  # pragma: no cover - the same bytes, slower

    def _dumps(content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


class ScimResponse(JSONResponse):
    media_type = SCIM_JSON

    def render(self, content: Any) -> bytes:
        return _dumps(content)


def create_app(config: ServerConfig, backend: Backend | None = None) -> Starlette:
    """The ASGI app. `backend` holds the database pools (one is made from `config` if None)."""
    backend = backend or Backend(config)
    # Handlers block on the database: they run on a plain executor sized like the pool. Cheaper per
    # request than anyio's `to_thread` (no capacity limiter or cancel scope), measured in
    # benchmarks/scim_bench.py.
    workers = ThreadPoolExecutor(max_workers=config.pool_size + 2, thread_name_prefix="scim")

    def endpoint(
        handler: Handler, *, body: bool = False, status: int = 200
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                if not token_matches(request.headers.get("authorization"), config.token):
                    raise unauthorized()
                payload = await _read_json(request, config.max_body) if body else None
                db = backend.database(request.headers.get(ONPREM_HEADER))
                service = UserService(db, _base_url(request))
                args = (request, service) if payload is None else (request, service, payload)
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(workers, functools.partial(handler, *args))
            except ScimError as exc:
                return _error(exc)
            except Exception:  # noqa: BLE001 - never a traceback in a response body
                log.exception("unexpected error in %s %s", request.method, request.url.path)
                return _error(ScimError(500, "internal server error; see the server log"))
            if result is None:
                return Response(status_code=204)
            headers = {}
            if status == 201:
                headers["Location"] = result.get("meta", {}).get("location", "")
            return ScimResponse(result, status_code=status, headers=headers)

        return run

    async def status(request: Request) -> Response:
        return PlainTextResponse(STATUS_TEXT)

    routes: list[Route] = []
    apps = config.apps or ("{app}",)  # another app name is 404, as on the On-prem SCIM Server
    for prefix in ("/scim/v2", *(f"/ws/rest/{app}/scim/v2" for app in apps)):
        routes += [
            Route(f"{prefix}/Status", status, methods=["GET"]),
            Route(f"{prefix}/Users", endpoint(_list_users), methods=["GET"]),
            Route(f"{prefix}/Users", endpoint(_create_user, body=True, status=201), methods=["POST"]),
            Route(f"{prefix}/Users/.search", endpoint(_search_users, body=True), methods=["POST"]),
            Route(f"{prefix}/.search", endpoint(_search_users, body=True), methods=["POST"]),
            Route(f"{prefix}/Users/{{id}}", endpoint(_get_user), methods=["GET"]),
            Route(f"{prefix}/Users/{{id}}", endpoint(_replace_user, body=True), methods=["PUT"]),
            Route(f"{prefix}/Users/{{id}}", endpoint(_patch_user, body=True), methods=["PATCH"]),
            Route(f"{prefix}/Users/{{id}}", endpoint(_delete_user), methods=["DELETE"]),
            Route(f"{prefix}/Entitlements", endpoint(_list_entitlements), methods=["GET"]),
            Route(f"{prefix}/Entitlements/{{id}}", endpoint(_get_entitlement), methods=["GET"]),
            Route(
                f"{prefix}/ServiceProviderConfig",
                endpoint(lambda r, s: service_provider_config(s.location, config.max_results)),
                methods=["GET"],
            ),
            Route(f"{prefix}/Schemas", endpoint(_list_of(_schemas)), methods=["GET"]),
            Route(f"{prefix}/Schemas/{{id}}", endpoint(_one_of(_schemas)), methods=["GET"]),
            Route(f"{prefix}/ResourceTypes", endpoint(_list_of(_resource_types)), methods=["GET"]),
            Route(f"{prefix}/ResourceTypes/{{id}}", endpoint(_one_of(_resource_types)), methods=["GET"]),
        ]

    async def http_error(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        if not token_matches(request.headers.get("authorization"), config.token):
            return _error(unauthorized())
        detail = "no such endpoint" if code == 404 else f"method {request.method} not allowed here"
        return _error(ScimError(code, detail))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        workers.shutdown(wait=False, cancel_futures=True)
        backend.close()

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.state.max_results = config.max_results
    return app


# -- handlers (run in a worker thread) ------------------------------------------------------


def _list_users(request: Request, service: UserService) -> dict[str, Any]:
    q = request.query_params
    return _search(
        request,
        service,
        q.get("filter"),
        q.get("startIndex"),
        q.get("count"),
        q.get("attributes"),
        q.get("excludedAttributes"),
    )


def _search_users(request: Request, service: UserService, body: Any) -> dict[str, Any]:
    """POST /.search (RFC 7644 §3.4.3)."""
    if not isinstance(body, dict) or SEARCH_REQUEST not in (body.get("schemas") or []):
        raise invalid_syntax(f"`schemas` must contain {SEARCH_REQUEST}")
    attrs = body.get("attributes")
    excluded = body.get("excludedAttributes")
    return _search(
        request,
        service,
        body.get("filter"),
        body.get("startIndex"),
        body.get("count"),
        ",".join(attrs) if isinstance(attrs, list) else attrs,
        ",".join(excluded) if isinstance(excluded, list) else excluded,
    )


def _search(
    request: Request,
    service: UserService,
    filter_text: Any,
    start_raw: Any,
    count_raw: Any,
    attributes: Any,
    excluded: Any,
) -> dict[str, Any]:
    max_results: int = request.app.state.max_results
    if filter_text is not None and not isinstance(filter_text, str):
        raise bad_request("filter must be a string", "invalidFilter")
    node = parse_filter(filter_text) if filter_text else None
    start = max(1, _int_param("startIndex", start_raw, 1))
    count = min(max(0, _int_param("count", count_raw, max_results)), max_results)
    page = service.search(node, start, count)
    return _list_response(page, _attrs(attributes), _attrs(excluded))


def _create_user(request: Request, service: UserService, body: Any) -> dict[str, Any]:
    return _projected(request, service.create(body))


def _get_user(request: Request, service: UserService) -> dict[str, Any]:
    return _projected(request, service.get(request.path_params["id"]))


def _replace_user(request: Request, service: UserService, body: Any) -> dict[str, Any]:
    return _projected(request, service.replace(request.path_params["id"], body))


def _patch_user(request: Request, service: UserService, body: Any) -> dict[str, Any]:
    return _projected(request, service.patch(request.path_params["id"], body))


def _delete_user(request: Request, service: UserService) -> None:
    service.deactivate(request.path_params["id"])


def _list_entitlements(request: Request, service: UserService) -> dict[str, Any]:
    q = request.query_params
    max_results: int = request.app.state.max_results
    node = parse_filter(q["filter"]) if q.get("filter") else None
    start = max(1, _int_param("startIndex", q.get("startIndex"), 1))
    count = min(max(0, _int_param("count", q.get("count"), max_results)), max_results)
    return _list_response(service.entitlements(node, start, count), [], [])


def _get_entitlement(request: Request, service: UserService) -> dict[str, Any]:
    return service.entitlement(request.path_params["id"])


def _schemas(service: UserService) -> list[dict[str, Any]]:
    ids = [str(r["ENT_ID"]) for r in service.db.call("get_all_entitlements", {})]
    return all_schemas(service.location, ids)


def _resource_types(service: UserService) -> list[dict[str, Any]]:
    return resource_types(service.location)


def _list_of(source: Callable[[UserService], list[dict[str, Any]]]) -> Handler:
    def handler(request: Request, service: UserService) -> dict[str, Any]:
        items = source(service)
        return _list_response(Page(len(items), 1, items), [], [])

    return handler


def _one_of(source: Callable[[UserService], list[dict[str, Any]]]) -> Handler:
    def handler(request: Request, service: UserService) -> dict[str, Any]:
        wanted = request.path_params["id"]
        for item in source(service):
            if item.get("id") == wanted:
                return item
        raise not_found(f"{wanted!r} not found")

    return handler


# -- helpers --------------------------------------------------------------------------------


def _list_response(page: Page, attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """RFC 7644 §3.4.2: ListResponse with totalResults, startIndex, itemsPerPage."""
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": page.total,
        "startIndex": page.start,
        "itemsPerPage": len(page.resources),
        "Resources": [project(r, attributes, excluded) for r in page.resources],
    }


def _projected(request: Request, resource: dict[str, Any]) -> dict[str, Any]:
    q = request.query_params
    return project(resource, _attrs(q.get("attributes")), _attrs(q.get("excludedAttributes")))


def _attrs(value: Any) -> list[str]:
    return parse_attribute_list(value) if isinstance(value, str) else []


def _int_param(name: str, raw: Any, default: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise bad_request(f"{name} must be an integer")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None
    return max(min(value, 2**31 - 1), -(2**31))


async def _read_json(request: Request, limit: int) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (SCIM_JSON, "application/json"):
        raise ScimError(415, f"Content-Type must be {SCIM_JSON} (or application/json)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ScimError(413, f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ScimError(413, f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


def _base_url(request: Request) -> str:
    path = request.url.path
    cut = path.find("/scim/v2")
    return f"{request.url.scheme}://{request.url.netloc}{path[: cut + len('/scim/v2')]}"


def _error(exc: ScimError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="okta-lab"'} if exc.status == 401 else None
    return ScimResponse(exc.body(), status_code=exc.status, headers=headers)
