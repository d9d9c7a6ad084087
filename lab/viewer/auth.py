"""Sign-in: one local admin account, or Okta OIDC (authorization code flow, OpenID Connect Core
1.0 §3.1) with RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from lab.errors import ConfigError, Problem
from lab.settings.viewer import ViewerSettings

log = logging.getLogger("lab.viewer.auth")

CALLBACK_PATH = "/authorization-code/callback"
Endpoint = Callable[[Request], Awaitable[Response]]


def current_user(request: Request) -> str | None:
    """The signed-in user: the cookie's session id must still be live on the server."""
    if "session" not in request.scope:  # outside the session middleware (a 500 page)
        return None
    viewer = getattr(request.app.state, "viewer", None)
    if viewer is None:
        return None
    user: str | None = viewer.sessions.user(request.session.get("sid"))
    return user


def sign_in(request: Request, user: str) -> None:
    """Start a fresh session for `user` (a new id, so an old cookie never gains rights)."""
    viewer = request.app.state.viewer
    viewer.sessions.close(request.session.get("sid"))
    request.session.clear()
    request.session["sid"] = viewer.sessions.open(user)


def sign_out(request: Request) -> None:
    """End the session on the server and clear the cookie."""
    request.app.state.viewer.sessions.close(request.session.get("sid"))
    request.session.clear()


def login_required(endpoint: Endpoint) -> Endpoint:
    """Send anonymous requests to the login page (or 401 for non-page requests)."""

    @wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        if current_user(request) is None:
            if request.method != "GET":
                return Response("authentication required", status_code=401)
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if wanted == "/":
                return RedirectResponse("/login", status_code=303)
            return RedirectResponse(f"/login?{urlencode({'next': wanted})}", status_code=303)
        return await endpoint(request)

    return wrapper


_NO_RETURN = ("/login", "/logout", CALLBACK_PATH, "/static/", "/player/")


def safe_next(value: object) -> str:
    """Where to go after sign-in: `value` when it is a path on this viewer, else `/`.

    Only a same-origin absolute path is kept: it must start with one `/` (not `//` or `/\\`,
    which browsers read as another host), carry no scheme, host, backslash or control character,
    and not point back into sign-in itself.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2048:
        return "/"
    if value.startswith("//") or "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(_NO_RETURN):
        return "/"
    return value


def password_ok(settings: ViewerSettings, user: str, password: str) -> bool:
    """Constant-time comparison of both fields; the answer never says which one was wrong."""
    user_ok = hmac.compare_digest(user.encode(), settings.admin_user.encode())
    pass_ok = hmac.compare_digest(password.encode(), settings.admin_password.encode())
    return user_ok and pass_ok


def discover(issuer: str, timeout: float = 10.0) -> dict[str, Any]:
    """Fetch and check the issuer's OpenID Provider metadata (OpenID Connect Discovery 1.0 §4).

    Raises ConfigError with a clear reason, so a misconfigured viewer refuses to start.
    """
    url = f"{issuer}/.well-known/openid-configuration"
    hint = "check VIEWER_OIDC_ISSUER (e.g. https://<org>.okta.com/oauth2/default)"
    try:
        resp = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ConfigError(Problem(f"OIDC issuer {issuer} is unreachable ({exc})", hint)) from None
    if resp.status_code != 200:
        raise ConfigError(Problem(f"OIDC discovery {url} answered HTTP {resp.status_code}", hint))
    try:
        meta = resp.json()
    except ValueError:
        raise ConfigError(Problem(f"OIDC discovery {url} did not return JSON", hint)) from None
    if not isinstance(meta, dict):
        raise ConfigError(Problem(f"OIDC discovery {url} did not return a JSON object", hint))
    if meta.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise ConfigError(
            Problem(
                f"OIDC issuer mismatch: metadata says {meta.get('issuer')!r}, .env says {issuer!r}",
                "set VIEWER_OIDC_ISSUER to exactly the issuer the metadata names",
            )
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if k not in meta]
    if missing:
        raise ConfigError(Problem(f"OIDC metadata lacks {', '.join(missing)}", hint))
    return meta


class OidcAuth:
    """The Authlib client for the configured issuer."""

    def __init__(self, settings: ViewerSettings, metadata: dict[str, Any]) -> None:
        self.settings = settings
        self.metadata = metadata
        self.oauth = OAuth()
        self.client: Any = self.oauth.register(
            name="okta",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
        )
        self.client.server_metadata = dict(metadata)

    @property
    def redirect_uri(self) -> str:
        return f"{self.settings.base_url}{CALLBACK_PATH}"

    async def login(self, request: Request) -> Response:
        request.session["next"] = safe_next(request.query_params.get("next"))
        response: Response = await self.client.authorize_redirect(request, self.redirect_uri)
        return response

    async def callback(self, request: Request) -> Response:
        try:
            token = await self.client.authorize_access_token(request)
        except (OAuthError, httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC callback failed: %s", type(exc).__name__)
            return RedirectResponse("/login?error=oidc", status_code=303)
        claims = token.get("userinfo") or {}
        user = claims.get("email") or claims.get("preferred_username") or claims.get("sub")
        if not user:
            return RedirectResponse("/login?error=oidc", status_code=303)
        target = safe_next(request.session.get("next"))
        sign_in(request, str(user))
        request.session["id_token"] = token.get("id_token", "")
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request) -> Response:
        id_token = request.session.get("id_token") or None
        sign_out(request)
        if "end_session_endpoint" not in self.metadata:
            return RedirectResponse("/login", status_code=303)
        response: Response = await self.client.logout_redirect(
            request,
            post_logout_redirect_uri=f"{self.settings.base_url}/login",
            id_token_hint=id_token,
        )
        response.status_code = 303
        return response
