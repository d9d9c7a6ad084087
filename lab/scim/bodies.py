"""JSON from clients (request bodies, the `X-OKTA-ONPREM-DATA` header), parsed within limits.

The nesting depth is checked before parsing, so that no input reaches the parser's recursion: a
body of 100,000 `[` would otherwise end as a RecursionError and a 500. Any problem is a SCIM 400
`invalidSyntax` (RFC 7644 §3.12).
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from lab.scim.errors import invalid_syntax

#: Deepest nesting of JSON arrays/objects accepted (a SCIM PatchOp needs about 6).
MAX_JSON_DEPTH = 32
_STRING_OR_OTHER = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[^\[\]{}"]+')


def parse_json(raw: bytes, what: str = "the request body") -> Any:
    """`raw` parsed as JSON; SCIM 400 `invalidSyntax` if it is not JSON or nests too deep."""
    if too_deep(raw, MAX_JSON_DEPTH):
        raise invalid_syntax(f"{what} nests arrays/objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid_syntax(f"{what} is not valid JSON") from None


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether `[`/`{` nest deeper than `limit` in a JSON text (brackets inside strings ignored).

    Malformed text may pass; the parser then rejects it.
    """
    brackets = _STRING_OR_OTHER.sub(b"", raw)
    depths = itertools.accumulate(1 if b in b"[{" else -1 for b in brackets)
    return any(d > limit for d in depths)
