"""Server-side sign-in state: which signed session ids are live.

The session cookie is signed by Starlette's SessionMiddleware, which alone would keep a copied
cookie valid until it expires. Each sign-in therefore gets a random session id kept here; the
cookie carries it, and a request counts as signed in only while its id is live. Sign-out (and
expiry) removes the id, so a copy of the cookie stops working at once. State is in memory: a
restart of the viewer signs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time


class SessionRegistry:
    """Live session ids -> (user, expiry on the monotonic clock); thread-safe."""

    def __init__(self, max_age: float, max_sessions: int = 10000) -> None:
        self.max_age = max_age
        self.max_sessions = max_sessions
        self._live: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def open(self, user: str) -> str:
        """A new session id for `user`, valid for `max_age` seconds."""
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._live) >= self.max_sessions:
                self._prune(now)
            self._live[sid] = (user, now + self.max_age)
        return sid

    def user(self, sid: object) -> str | None:
        """The user of a live session id, else None."""
        if not isinstance(sid, str):
            return None
        with self._lock:
            entry = self._live.get(sid)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._live[sid]
                return None
            return entry[0]

    def close(self, sid: object) -> None:
        if isinstance(sid, str):
            with self._lock:
                self._live.pop(sid, None)

    def __len__(self) -> int:
        return len(self._live)

    def _prune(self, now: float) -> None:
        for sid in [s for s, (_, exp) in self._live.items() if exp <= now]:
            del self._live[sid]
        while len(self._live) >= self.max_sessions:  # still full: drop the oldest
            del self._live[min(self._live, key=lambda s: self._live[s][1])]


def cookie_name(secret: str, instance: str) -> str:
    """`viewer_session_<10 hex>`, derived from the session secret and the instance (port and base
    URL), so two viewers on one host keep separate cookies; reveals nothing about the secret."""
    tag = hmac.new(secret.encode(), f"cookie-name:{instance}".encode(), hashlib.sha256).hexdigest()[:10]
    return f"viewer_session_{tag}"
