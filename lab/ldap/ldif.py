"""LDIF and DN text helpers, also registered as Jinja2 filters for `templates/ldif/`.

- `ldif_line(attr, value)`: one `attr: value` line, or `attr:: base64` when the value is not a
  SAFE-STRING (RFC 2849, "value-spec"), folded at 76 columns (RFC 2849, note 2).
- `dn_value(value)`: escape an RDN attribute value (RFC 4514 §2.4).
- `postal(value)`: Postal Address syntax, `$` separates lines (RFC 4517 §3.3.28).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from lab.ldap.hashing import ssha_for
from lab.ldap.photos import person_photo

_SAFE_INIT = set(range(0x01, 0x80)) - {0x0A, 0x0D, 0x20, 0x3A, 0x3C}
_SAFE_CHAR = set(range(0x01, 0x80)) - {0x0A, 0x0D}
WIDTH = 76


def is_safe_string(value: str) -> bool:
    """RFC 2849 SAFE-STRING: ASCII, no NUL/CR/LF, no leading space/colon/'<', no trailing space."""
    raw = value.encode()
    if not raw:
        return True
    if raw[0] not in _SAFE_INIT or raw.endswith(b" "):
        return False
    return all(b in _SAFE_CHAR for b in raw)


def fold(line: str, width: int = WIDTH) -> str:
    """Fold a long LDIF line: continuation lines start with one space (RFC 2849)."""
    if len(line) <= width:
        return line
    parts = [line[:width]]
    rest = line[width:]
    while rest:
        parts.append(" " + rest[: width - 1])
        rest = rest[width - 1 :]
    return "\n".join(parts)


def ldif_line(attr: str, value: Any) -> str:
    """`attr: value`, or `attr:: base64(value)` when the value needs it."""
    if isinstance(value, bytes):
        return fold(f"{attr}:: {base64.b64encode(value).decode()}")
    text = str(value)
    if is_safe_string(text):
        return fold(f"{attr}: {text}")
    return fold(f"{attr}:: {base64.b64encode(text.encode()).decode()}")


def dn_value(value: str) -> str:
    """Escape a string for use as an RDN value (RFC 4514 §2.4)."""
    out = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (ch == "#" and i == 0) or (ch == " " and i in (0, len(value) - 1)):
            out.append("\\" + ch)
        elif ch == "\0":
            out.append("\\00")
        else:
            out.append(ch)
    return "".join(out)


def postal(value: str) -> str:
    """Postal Address syntax: escape `\\` and `$` (RFC 4517 §3.3.28); lines are not split."""
    return value.replace("\\", "\\5C").replace("$", "\\24")


def people_dn(base_dn: str) -> str:
    return f"ou=People,{base_dn}"


def groups_dn(base_dn: str) -> str:
    return f"ou=Groups,{base_dn}"


def user_dn(login: str, base_dn: str, ou: str | None = None) -> str:
    """`uid=<login>,[ou=<ou>,]ou=People,<base>`."""
    parent = people_dn(base_dn) if not ou else f"ou={dn_value(ou)},{people_dn(base_dn)}"
    return f"uid={dn_value(login)},{parent}"


def group_dn(name: str, base_dn: str) -> str:
    return f"cn={dn_value(name)},{groups_dn(base_dn)}"


FILTERS: dict[str, Callable[..., Any]] = {
    "ldif": ldif_line,
    "dn_value": dn_value,
    "postal": postal,
    "ssha": ssha_for,
    "user_dn": user_dn,
    "group_dn": group_dn,
    "jpeg_photo": person_photo,
}
