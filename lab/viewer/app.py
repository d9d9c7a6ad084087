"""The viewer application factory: `create_app(settings, storage)`.

Storage is injected (a folder, S3, or a test double), the OIDC metadata is fetched and checked
before the app is built, and the index refreshes in a background thread started by the lifespan.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
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
from lab.viewer.assets import player_dir
from lab.viewer.auth import CALLBACK_PATH, OidcAuth, current_user, discover
from lab.viewer.index import RecordingIndex
from lab.viewer.pam import PamClient, PamDirectory
from lab.viewer.security import RateLimiter, SecurityHeaders, content_security_policy, csrf_token
from lab.viewer.storage import Storage

log = logging.getLogger("lab.viewer")
HERE = Path(__file__).resolve().parent


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
    pam: PamDirectory | None = None  # the optional Okta Privileged Access enrichment of the graph

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        snap = self.index.snapshot
        html = self.jinja.get_template(name).render(
            request=request,
            user=current_user(request),
            csrf=csrf_token(request),
            auth=self.settings.auth,
            storage_error=snap.error,
            storage_name=self.storage.describe(),
            snapshot=snap,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)


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
) -> Starlette:
    """Build the viewer. With `VIEWER_AUTH=oidc` the issuer's metadata is fetched now (or taken
    from `oidc_metadata`); a misconfigured issuer raises ConfigError before anything serves."""
    oidc = None
    forms: list[str] = []
    if settings.auth == "oidc":
        meta = oidc_metadata if oidc_metadata is not None else discover(settings.oidc_issuer)
        oidc = OidcAuth(settings, meta)
        end = str(meta.get("end_session_endpoint", ""))
        if end:
            forms.append("/".join(end.split("/", 3)[:3]))
    index = RecordingIndex(storage, settings.index_refresh_seconds)
    jinja = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    jinja.filters["filesize"] = pages.filesize
    viewer = Viewer(
        settings=settings,
        storage=storage,
        index=index,
        oidc=oidc,
        login_limit=RateLimiter(settings.login_rate, 60.0),
        playback_limit=RateLimiter(settings.playback_rate, 60.0),
        jinja=jinja,
        pam=PamDirectory(PamClient.from_settings(settings), settings.index_refresh_seconds)
        if settings.pam_enabled
        else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if background_index:
            index.start()
            if viewer.pam is not None:
                viewer.pam.start()
        try:
            yield
        finally:
            index.stop()
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
        Route("/refresh", pages.refresh, methods=["POST"]),
        *api.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    player = assets or player_dir()
    if player is not None:
        routes.append(Mount("/player", StaticFiles(directory=player), name="player"))
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
            session_cookie="viewer_session",
            max_age=8 * 3600,
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
    if not background_index:
        index.refresh_now()
        if viewer.pam is not None:
            viewer.pam.refresh_now()
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found", status_code=404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("method not allowed", status_code=405)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s: %s", request.url.path, type(exc).__name__)
    return PlainTextResponse("internal error", status_code=500)
