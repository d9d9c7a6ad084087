"""Per-user TOTP secrets for the lab's stand-in MFA challenge (RFC 6238 via `pyotp`).

Each user's secret is derived from the lab key (`RADIUS_TOTP_KEY`) and the user name, so the
RADIUS server and `lab radius otp USER` agree without a shared state file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pyotp


def user_secret(lab_key: str, user: str) -> str:
    """Base32 TOTP secret (32 characters, 160 bits) for `user`; user names compare case-blind."""
    digest = hmac.new(lab_key.encode(), user.strip().lower().encode(), hashlib.sha1).digest()
    return base64.b32encode(digest).decode()


def current_code(lab_key: str, user: str, *, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows now (30 s steps, HMAC-SHA1, RFC 6238 §4)."""
    totp = pyotp.TOTP(user_secret(lab_key, user))
    return totp.now() if at is None else totp.at(at)


def verify_code(lab_key: str, user: str, code: str, *, at: float | None = None) -> bool:
    """True if `code` matches the current step or the one before/after (clock drift)."""
    return pyotp.TOTP(user_secret(lab_key, user)).verify(code.strip(), for_time=at, valid_window=1)
