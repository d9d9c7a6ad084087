"""Security plumbing: response headers, CSRF tokens, rate limits.

- Headers: a Content-Security-Policy without inline scripts or `unsafe-eval`; the only extra is
  `'wasm-unsafe-eval'`, which the asciinema player needs to compile its WebAssembly terminal.
- CSRF: a per-session random token (synchronizer token pattern), checked on every POST form.
- Rate limits: a sliding window per key (user for playback; for sign-in the client address, or
  the browser's device cookie once it has signed in there before, see `login_key`).
- Client address: the TCP peer, or the `X-Forwarded-For` hop before the first proxy we trust
  (`VIEWER_TRUSTED_PROXIES`); never the header of an untrusted peer.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque

from itsdangerous import BadSignature, URLSafeTimedSerializer
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in proxies if ip.version == net.version)


def client_address(request: Request, proxies: tuple[Network, ...]) -> str:
    """The address of the client behind any trusted proxies.

    `X-Forwarded-For` lists the hops a request passed (client first). Read from the right, each
    trusted proxy vouches for the hop before it; the first hop that is not a trusted proxy is
    the client. From an untrusted peer the header is ignored: anyone can write it.
    """
    peer = request.client.host if request.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for line in request.headers.getlist("x-forwarded-for") for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


class DeviceCookies:
    """Signed "this browser signed in as USER before" cookies (OWASP's device cookies against
    online guessing): sign-in attempts from such a browser count against its own budget, so an
    attacker who exhausts the budget of a shared address (everyone behind one proxy, or every
    client docker-proxy forwards from 127.0.0.1) cannot lock out users who signed in before."""

    max_age = 90 * 24 * 3600

    def __init__(self, secret: str, name: str) -> None:
        self.name = name
        self._signer = URLSafeTimedSerializer(secret, salt="lab.viewer.device")

    def issue(self, user: str) -> str:
        """A cookie value: URL-safe characters only (no quoting, no control characters)."""
        return str(self._signer.dumps([user, secrets.token_urlsafe(16)]))

    def device(self, value: str | None, user: str) -> str | None:
        """The device id in `value` when it is genuine, recent and was issued to `user`."""
        if not value:
            return None
        try:
            owner, device = self._signer.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        return device if owner == user and isinstance(device, str) and device else None


def login_key(request: Request, proxies: tuple[Network, ...], devices: DeviceCookies, user: str) -> str:
    """The rate-limit bucket of a sign-in attempt: the browser's device cookie for `user` when it
    has one, else the client's address."""
    device = devices.device(request.cookies.get(devices.name), user)
    return f"login:device:{device}" if device else f"login:addr:{client_address(request, proxies)}"
