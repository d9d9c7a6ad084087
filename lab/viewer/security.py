"""Security plumbing: response headers, CSRF tokens, rate limits.

- Headers: a Content-Security-Policy without inline scripts or `unsafe-eval`; the only extra is
  `'wasm-unsafe-eval'`, which the asciinema player needs to compile its WebAssembly terminal.
- CSRF: a per-session random token (synchronizer token pattern), checked on every POST form.
- Rate limits: a sliding window per key (client address for login, user for playback).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(extra_media: list[str], extra_forms: list[str]) -> str:
    """The CSP for every response. `extra_media`: S3 origins; `extra_forms`: the OIDC issuer."""
    media = " ".join(["'self'", *extra_media])
    forms = " ".join(["'self'", *extra_forms])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src {media}",
            f"media-src {media}",
            f"form-action {forms}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware adding security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, csp: str, hsts: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in names)
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )


class RateLimiter:
    """At most `limit` events per `window` seconds per key (thread-safe sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 10000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds until `key` may act again (0 when it may), without recording anything."""
        now = time.monotonic()
        with self._lock:
            events = self._events.get(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if events is not None and len(events) >= self.limit:
                return max(0.1, events[0] + self.window - now)
            return 0.0

    def hit(self, key: str) -> float:
        """Record one event; return 0 when allowed, else the seconds until the next is allowed."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > self.max_keys:
                self._prune(now)
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.1, events[0] + self.window - now)
            events.append(now)
            return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]
