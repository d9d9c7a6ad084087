"""asciicast (v1/v2/v3) header checks, so a broken `.cast` gets a clear page instead of a blank
player. Format: https://docs.asciinema.org/manual/asciicast/v2/ (newline-delimited JSON, line 1
is the header, then `[time, code, data]` events)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class CastInfo:
    """What the header says. `cols`/`rows` are 0 when a v1 file puts its size after `stdout`
    beyond the bytes read (the player then takes it from the file); `duration` in seconds."""

    version: int
    cols: int
    rows: int
    title: str = ""
    duration: float | None = None


class InvalidCast(ValueError):
    """The data is not an asciicast recording; the message says what is wrong."""


def inspect(head: bytes) -> CastInfo:
    """Check the first bytes of a `.cast` file (any length; a UTF-8 BOM is skipped) and return
    what the header says. v2/v3: line 1 is the header; v1: one JSON document, on one line or
    pretty-printed, possibly longer than `head`, read key by key up to where `head` ends."""
    if head.startswith(BOM):
        head = head[len(BOM) :]
    if not head.strip():
        raise InvalidCast("the file is empty")
    text = head.decode("utf-8", errors="replace")
    first = text.split("\n", 1)[0].strip()
    try:
        header = json.loads(first)
    except ValueError:
        header = _v1_prefix(text)
    if not isinstance(header, dict):
        raise InvalidCast("the header is not a JSON object")
    version = header.get("version")
    if version in (1, 2):
        cols, rows = header.get("width", 0 if version == 1 else None), header.get("height", 0 if version == 1 else None)
    elif version == 3:
        term = header.get("term")
        term = term if isinstance(term, dict) else {}
        cols, rows = term.get("cols"), term.get("rows")
    else:
        raise InvalidCast(f"unsupported asciicast version {version!r} (expected 1, 2 or 3)")
    if not (isinstance(cols, int) and isinstance(rows, int) and cols >= 0 and rows >= 0):
        raise InvalidCast("the header has no valid terminal size (width/height)")
    if version != 1 and not (cols and rows):
        raise InvalidCast("the header has no valid terminal size (width/height)")
    if version == 1 and "stdout" in header and not isinstance(header["stdout"], list):
        raise InvalidCast("the v1 stdout is not a list of [delay, data] frames")
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


def _v1_prefix(text: str) -> dict[str, object]:
    """The members of a v1 document that `text` holds whole (it may stop inside `stdout`)."""
    decoder = json.JSONDecoder()
    pos = _SPACE.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", pos):
        raise InvalidCast("the first line is not a JSON asciicast header")
    found: dict[str, object] = {}
    pos += 1
    while True:
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("}", pos) or pos >= len(text):
            break
        try:
            key, pos = decoder.raw_decode(text, pos)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if not text.startswith(":", pos):
                raise ValueError
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
            value, pos = decoder.raw_decode(text, pos)
        except ValueError:
            if pos >= len(text) - 1 or found:
                break  # the head ends inside this member
            raise InvalidCast("the first line is not a JSON asciicast header") from None
        if not isinstance(key, str):
            raise InvalidCast("the header is not a JSON object")
        found[key] = value
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos += 1
    if found.get("version") != 1:
        raise InvalidCast("the first line is not a JSON asciicast header")
    return found


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
