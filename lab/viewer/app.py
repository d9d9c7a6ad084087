"""The viewer application factory: `create_app(settings, storage)`.

Storage is injected (a folder, S3, or a test double), the OIDC metadata is fetched and checked
before the app is built, and the index refreshes in a background thread started by the lifespan.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lab.settings.viewer import ViewerSettings
from lab.viewer import api, pages
from lab.viewer.assets import GRAPH_FILE, player_dir
from lab.viewer.auth import CALLBACK_PATH, OidcAuth, current_user, discover
from lab.viewer.explore import explore
from lab.viewer.index import RecordingIndex
from lab.viewer.pam import PamClient, PamDirectory
from lab.viewer.search import SearchIndex
from lab.viewer.search_page import search_page
from lab.viewer.security import DeviceCookies, RateLimiter, SecurityHeaders, content_security_policy, csrf_token
from lab.viewer.sessions import SessionRegistry, cookie_name
from lab.viewer.storage import Storage

log = logging.getLogger("lab.viewer")
HERE = Path(__file__).resolve().parent
SESSION_MAX_AGE = 8 * 3600  # seconds, for the cookie and the server-side session alike


@dataclass
class Viewer:
    """Everything a request handler needs, kept on `app.state.viewer`."""

    settings: ViewerSettings
    storage: Storage
    index: RecordingIndex
    oidc: OidcAuth | None
    login_limit: RateLimiter
    playback_limit: RateLimiter
    jinja: Environment
    devices: DeviceCookies
    sessions: SessionRegistry = field(default_factory=lambda: SessionRegistry(SESSION_MAX_AGE))
    pam: PamDirectory | None = None  # the optional Okta Privileged Access enrichment of the graph
    search: SearchIndex | None = None  # full-text search inside SSH sessions
    graph_js: bool = False  # cytoscape is served under /player/ (the interactive graph)

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        snap = self.index.snapshot
        html = self.jinja.get_template(name).render(
            request=request,
            user=current_user(request),
            csrf=csrf_token(request) if "session" in request.scope else "",
            auth=self.settings.auth,
            storage_error=snap.error,
            storage_name=self.storage.describe(),
            snapshot=snap,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, message: str, title: str = "", **ctx: Any) -> HTMLResponse:
        """The error page: the layout, what went wrong, and a way back."""
        return self.render(request, "error.html", status=status, message=message, title=title, **ctx)


def _origins(storage: Storage) -> list[str]:
    origin = getattr(storage, "origin", None)
    if callable(origin):
        try:
            return [str(origin())]
        except Exception:  # a bad endpoint shows up in /health, not here
            return []
    return []


def create_app(
    settings: ViewerSettings,
    storage: Storage,
    *,
    oidc_metadata: dict[str, Any] | None = None,
    assets: Path | None = None,
    background_index: bool = True,
    search_db: Path | None = None,
) -> Starlette:
    """Build the viewer. With `VIEWER_AUTH=oidc` the issuer's metadata is fetched now (or taken
    from `oidc_metadata`); a misconfigured issuer raises ConfigError before anything serves.
    `search_db` is the search index file (`lab viewer serve` passes `VIEWER_SEARCH_DB`); without
    it the index lives in a temporary folder that goes with the app."""
    oidc = None
    forms: list[str] = []
    if settings.auth == "oidc":
        meta = oidc_metadata if oidc_metadata is not None else discover(settings.oidc_issuer)
        oidc = OidcAuth(settings, meta)
        end = str(meta.get("end_session_endpoint", ""))
        if end:
            forms.append("/".join(end.split("/", 3)[:3]))
    index = RecordingIndex(storage, settings.index_refresh_seconds)
    scratch = None
    if search_db is None:
        scratch = tempfile.TemporaryDirectory(prefix="lab-viewer-search-")
        search_db = Path(scratch.name) / "search.sqlite3"
    search = SearchIndex(search_db, index, storage, max_bytes=settings.search_max_kb * 1024)
    jinja = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    jinja.filters["filesize"] = pages.filesize
    cookie = cookie_name(settings.session_secret, f"{settings.port} {settings.base_url}")
    viewer = Viewer(
        settings=settings,
        devices=DeviceCookies(settings.session_secret, f"{cookie}_device"),
        storage=storage,
        index=index,
        oidc=oidc,
        login_limit=RateLimiter(settings.login_rate, 60.0),
        playback_limit=RateLimiter(settings.playback_rate, 60.0),
        jinja=jinja,
        pam=PamDirectory(PamClient.from_settings(settings), settings.index_refresh_seconds)
        if settings.pam_enabled
        else None,
        search=search,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background_index:
            search.start()
            index.start()
            if viewer.pam is not None:
                viewer.pam.start()
        try:
            yield
        finally:
            index.stop()
            search.stop()
            if viewer.pam is not None:
                viewer.pam.stop()

    routes = [
        Route("/health", pages.health),
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", pages.login_submit, methods=["POST"]),
        Route(CALLBACK_PATH, pages.oidc_callback),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/", pages.dashboard),
        Route("/sessions", pages.session_list),
        Route("/play", pages.play),
        Route("/media", pages.media),
        Route("/download", pages.download),
        Route("/graph", pages.graph),
        Route("/graph/explore", explore),
        Route("/search", search_page),
        Route("/refresh", pages.refresh, methods=["POST"]),
        *api.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    player = assets or player_dir()
    if player is not None:
        routes.append(Mount("/player", StaticFiles(directory=player), name="player"))
        viewer.graph_js = (player / GRAPH_FILE).is_file()
    else:
        log.warning("asciinema-player files not found; run `lab viewer assets`")
    middleware = [
        Middleware(
            SecurityHeaders,
            csp=content_security_policy(_origins(storage), forms),
            hsts=settings.secure_cookies,
        ),
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret,
            session_cookie=cookie,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _server_error},
    )
    app.state.viewer = viewer
    app.state.search_scratch = scratch  # removed with the app
    if not background_index:
        index.refresh_now()
        search.refresh_now()
        if viewer.pam is not None:
            viewer.pam.refresh_now()
    return app


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    viewer = getattr(request.app.state, "viewer", None)
    if viewer is None:
        return PlainTextResponse(message, status_code=status)
    try:
        return viewer.error(request, status, message, title=title)
    except Exception:  # the error page itself must never fail
        return PlainTextResponse(message, status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error_page(request, 404, "Page not found", "There is no page at this address.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _error_page(request, 405, "Method not allowed", "This page does not accept that kind of request.")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s: %s", request.url.path, type(exc).__name__)
    return _error_page(
        request, 500, "Something went wrong", "The viewer hit an internal error; the log has the details."
    )
