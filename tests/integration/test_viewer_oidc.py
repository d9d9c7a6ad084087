"""OIDC sign-in against a tiny OpenID provider run in-process on 127.0.0.1 (real HTTP, real
RS256-signed ID tokens, PKCE), plus the startup errors for a misconfigured issuer."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from lab.errors import ConfigError
from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.auth import discover
from lab.viewer.storage import LocalStorage

CLIENT_ID, CLIENT_SECRET = "viewer-client", "viewer-client-secret-1234"
BASE_URL = "http://testserver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def provider(issuer: str) -> Starlette:
    """Authorization code flow (OpenID Connect Core 1.0 §3.1) that signs in `leia` at once."""
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
    codes: dict[str, dict[str, Any]] = {}

    async def metadata(request: Request) -> Response:
        return JSONResponse({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/keys",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        })  # fmt: skip

    async def authorize(request: Request) -> Response:
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        codes[code] = dict(q)
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

    async def token(request: Request) -> Response:
        form = await request.form()
        auth = request.headers.get("authorization", "")
        cid, secret = (
            base64.b64decode(auth.split(" ", 1)[1]).decode().split(":", 1)
            if auth.startswith("Basic ")
            else (form.get("client_id"), form.get("client_secret"))
        )
        if (cid, secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = codes.pop(str(form.get("code")), None)
        if grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if challenge.decode() != grant["code_challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {"iss": issuer, "sub": "00u1", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": grant.get("nonce"), "email": "leia@galaxy.local"}  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse({"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token})  # fmt: skip

    async def keys(request: Request) -> Response:
        return JSONResponse({"keys": [key.as_dict(private=False)]})

    async def logout(request: Request) -> Response:
        return PlainTextResponse(f"logged out: {request.url.query}")

    return Starlette(routes=[
        Route("/.well-known/openid-configuration", metadata),
        Route("/authorize", authorize),
        Route("/token", token, methods=["POST"]),
        Route("/keys", keys),
        Route("/logout", logout),
    ])  # fmt: skip


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(provider(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def settings(issuer: str) -> ViewerSettings:
    return ViewerSettings.model_validate({
        "VIEWER_ADMIN_PASSWORD": "unused-password-1", "VIEWER_SESSION_SECRET": "o" * 48,
        "VIEWER_AUTH": "oidc", "VIEWER_OIDC_ISSUER": issuer, "VIEWER_OIDC_CLIENT_ID": CLIENT_ID,
        "VIEWER_OIDC_CLIENT_SECRET": CLIENT_SECRET, "VIEWER_BASE_URL": BASE_URL,
    })  # fmt: skip


def test_sign_in_and_out_through_the_provider(issuer: str, tmp_path: Any) -> None:
    app = create_app(settings(issuer), LocalStorage(tmp_path), background_index=False)
    with TestClient(app, base_url=BASE_URL) as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        assert "Sign in with Okta" in c.get("/login").text
        assert c.post("/login", data={"username": "admin"}).status_code == 404  # no local login
        start = c.get("/login?start=1", follow_redirects=False)
        assert start.status_code == 302 and start.headers["location"].startswith(f"{issuer}/authorize")
        back = httpx.get(start.headers["location"])  # the browser at the provider
        callback = back.headers["location"]
        assert callback.startswith(f"{BASE_URL}/authorization-code/callback?")
        done = c.get(callback.removeprefix(BASE_URL), follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/"
        home = c.get("/")
        assert home.status_code == 200 and "leia@galaxy.local" in home.text
        assert f"form-action 'self' {issuer}" in home.headers["content-security-policy"]
        token = home.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = c.post("/logout", data={"csrf": token}, follow_redirects=False)
        target = urlparse(out.headers["location"])
        assert out.headers["location"].startswith(f"{issuer}/logout")
        query = parse_qs(target.query)
        assert query["post_logout_redirect_uri"] == [f"{BASE_URL}/login"]
        assert query["id_token_hint"][0].count(".") == 2
        assert c.get("/", follow_redirects=False).status_code == 303


def test_forged_callback_is_refused(issuer: str, tmp_path: Any) -> None:
    app = create_app(settings(issuer), LocalStorage(tmp_path), background_index=False)
    with TestClient(app, base_url=BASE_URL) as c:
        r = c.get("/authorization-code/callback?code=x&state=forged", follow_redirects=False)
        assert r.headers["location"] == "/login?error=oidc"
        assert c.get("/", follow_redirects=False).status_code == 303


def test_unreachable_issuer_stops_startup(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="unreachable"):
        create_app(settings(f"http://127.0.0.1:{free_port()}"), LocalStorage(tmp_path))


def test_issuer_mismatch_stops_startup(issuer: str) -> None:
    wrong = issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(ConfigError, match="issuer mismatch"):
        discover(wrong)


def test_issuer_without_discovery_document_stops_startup(issuer: str) -> None:
    with pytest.raises(ConfigError, match="HTTP 404"):
        discover(f"{issuer}/oauth2/nope")


def test_oidc_lands_on_the_page_asked_for_and_sign_out_kills_copies(issuer: str, tmp_path: Any) -> None:
    app = create_app(settings(issuer), LocalStorage(tmp_path), background_index=False)
    with TestClient(app, base_url=BASE_URL) as c:
        asked = "/sessions?team=rebel-dev&sort=user"
        login_url = c.get(asked, follow_redirects=False).headers["location"]
        assert login_url == "/login?" + urlencode({"next": asked})
        html = c.get(login_url).text
        start_href = html.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        start = c.get(start_href, follow_redirects=False)
        callback = httpx.get(start.headers["location"]).headers["location"]
        done = c.get(callback.removeprefix(BASE_URL), follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == asked
        copied = dict(c.cookies)
        token = c.get("/").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        c.post("/logout", data={"csrf": token}, follow_redirects=False)
        with TestClient(app, base_url=BASE_URL, cookies=copied) as thief:
            assert thief.get("/", follow_redirects=False).status_code == 303
