"""Decoding the HTTP headers an Okta Access Gateway app receives.

OAG passes identity in request headers; custom code may re-shape them, e.g. with
nginx set-misc ``set_encode_base64`` into an ``Authorization`` header (RFC 7617 Basic
credentials are ``base64(user-id ":" password)``, RFC 4648 section 4 alphabet).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

# Identity headers OAG sends by default for a header app (lower-cased names).
DEFAULT_IDENTITY_HEADERS = ("oag_username", "firstname", "lastname", "oag_groups", "authorization")


@dataclass(frozen=True)
class Header:
    """One received header: ``name`` as sent, ``value`` raw, ``decoded`` text or None."""

    name: str
    value: str
    decoded: str | None
    identity: bool


def decode_base64_text(value: str) -> str | None:
    """The UTF-8 text ``value`` carries in base64 (RFC 4648 s.4), or None if it is not that.

    Padding may be missing (set_encode_base64 always pads; other encoders may not).
    A value that decodes to non-printable bytes is not treated as base64.
    """
    token = value.strip()
    if not token or len(token) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return text if text.isprintable() else None


def decode_header(name: str, value: str) -> str | None:
    """Decoded text of an ``Authorization`` value (``Basic <b64>`` or bare base64), else None.

    Other headers are not guessed at: a plain word such as ``alice`` is also valid base64.
    """
    if name.lower() == "authorization":
        scheme, _, rest = value.partition(" ")
        token = rest if scheme.lower() == "basic" and rest else value
        return decode_base64_text(token)
    return None


def describe(headers: list[tuple[str, str]], identity: tuple[str, ...] = DEFAULT_IDENTITY_HEADERS) -> list[Header]:
    """Every received header in order, decoded where it carries base64, identity flagged."""
    wanted = {n.lower() for n in identity}
    return [Header(n, v, decode_header(n, v), n.lower() in wanted) for n, v in headers]
