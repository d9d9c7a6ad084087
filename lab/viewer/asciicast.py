"""asciicast (v1/v2/v3) header checks, so a broken `.cast` gets a clear page instead of a blank
player. Format: https://docs.asciinema.org/manual/asciicast/v2/ (newline-delimited JSON, line 1
is the header, then `[time, code, data]` events)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class CastInfo:
    version: int
    cols: int
    rows: int
    title: str = ""
    duration: float | None = None


class InvalidCast(ValueError):
    """The data is not an asciicast recording; the message says what is wrong."""


def inspect(head: bytes) -> CastInfo:
    """Check the first bytes of a `.cast` file and return what the header says."""
    if not head.strip():
        raise InvalidCast("the file is empty")
    text = head.decode("utf-8", errors="replace")
    first = text.split("\n", 1)[0].strip()
    try:
        header = json.loads(first)
    except ValueError:
        # v1 is a single JSON document; accept it when the head contains it whole.
        try:
            header = json.loads(text)
        except ValueError:
            raise InvalidCast("the first line is not a JSON asciicast header") from None
    if not isinstance(header, dict):
        raise InvalidCast("the header is not a JSON object")
    version = header.get("version")
    if version in (1, 2):
        cols, rows = header.get("width"), header.get("height")
    elif version == 3:
        term = header.get("term")
        term = term if isinstance(term, dict) else {}
        cols, rows = term.get("cols"), term.get("rows")
    else:
        raise InvalidCast(f"unsupported asciicast version {version!r} (expected 1, 2 or 3)")
    if not (isinstance(cols, int) and isinstance(rows, int) and cols > 0 and rows > 0):
        raise InvalidCast("the header has no valid terminal size (width/height)")
    if version == 2:
        _check_events(text.split("\n")[1:])
    title = header.get("title")
    title = title if isinstance(title, str) else ""
    duration = header.get("duration")
    return CastInfo(
        version=int(version),
        cols=cols,
        rows=rows,
        title=title,
        duration=float(duration) if isinstance(duration, int | float) else None,
    )


def _check_events(lines: list[str]) -> None:
    # The last line in the head may be cut short; check complete ones only.
    for line in lines[:-1][:20]:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise InvalidCast("an event line is not JSON") from None
        if not (isinstance(event, list) and len(event) == 3 and isinstance(event[0], int | float)):
            raise InvalidCast("an event is not [time, code, data]")
