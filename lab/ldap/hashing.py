"""Salted SHA-1 (`{SSHA}`) password hashes, as OpenLDAP stores them.

The scheme is the de-facto standard used by slapd's `slappasswd -h {SSHA}`: base64 of
SHA-1(password + salt) followed by the salt (RFC 2307 §5.3 names the `{scheme}` prefix
convention for `userPassword`). Rendering must be deterministic, so the salt is derived from an
HMAC of the user id keyed by a configuration secret: the same `.env` gives byte-identical LDIF,
different users get different salts, and nobody without the secret can predict a salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SALT_BYTES = 8


def derive_salt(key: str, ident: str) -> bytes:
    """A per-identity salt: HMAC-SHA256(key, ident), truncated to SALT_BYTES."""
    mac = hmac.new(key.encode(), b"lab-ssha-salt\0" + ident.encode(), hashlib.sha256)
    return mac.digest()[:SALT_BYTES]


def ssha(password: str, salt: bytes) -> str:
    """`{SSHA}` + base64(SHA1(password || salt) || salt)."""
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def ssha_for(password: str, key: str, ident: str) -> str:
    """Deterministic `{SSHA}` hash of `password` for `ident` (salt derived from `key`)."""
    return ssha(password, derive_salt(key, ident))


def check_ssha(password: str, stored: str) -> bool:
    """True when `stored` (`{SSHA}...`) is a hash of `password`."""
    if not stored.upper().startswith("{SSHA}"):
        return False
    raw = base64.b64decode(stored[6:])
    digest, salt = raw[:20], raw[20:]
    return hmac.compare_digest(hashlib.sha1(password.encode() + salt).digest(), digest)
