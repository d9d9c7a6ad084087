"""The text of an SSH recording: what was shown (output events) and typed (input events), line by
line, with the time each line started, ANSI escape sequences and cursor movement interpreted.

Format: asciicast v1 (one JSON document, `stdout: [[delay, data], ...]`), v2 (newline-delimited
JSON, `[time, code, data]` with absolute times) and v3 (`[interval, code, data]`), per
https://docs.asciinema.org/manual/asciicast/v2/ and .../v3/. Escape sequences are parsed by pyte's
VT100 stream parser (PyPI `pyte`); a small one-line model applies carriage returns, backspaces,
cursor moves and line erases, so a line reads as it looked on screen (`ls\\b \\bs` -> `ls`).

Times are seconds from the start of the recording, both as recorded (`t`) and as the bundled player
shows them when it compresses idle gaps to `IDLE_LIMIT` seconds (`tc`, the player's `startAt`).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple

import pyte

#: The player's `idleTimeLimit` (lab/viewer/static/player.js): gaps longer than this are cut.
IDLE_LIMIT = 2.0
#: The longest line kept for the index; the rest of a longer line is cut.
MAX_LINE = 2000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Complete sequences that never move the cursor or change text: colours (SGR), window titles and
# other OSC strings, device control strings (DCS, PM, APC, SOS). Removed before anything else
# parses the rest (pyte's parser would spend most of its time on them).
_INERT = re.compile(r"\x1b\[[0-9;:]*m|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P_^X][^\x1b]*\x1b\\")
# A line with nothing else than text, CR and tab is resolved without the terminal parser.
_SIMPLE = re.compile(r"[^\x00-\x08\x0a-\x0c\x0e-\x1f\x7f-\x9f]*")
# A line whose only escape sequences are CSI ones (cursor moves, erases) is tokenised here and
# dispatched with pyte's own table of CSI events; anything else goes through pyte's parser.
_CSI_ONLY = re.compile(r"(?:[^\x00-\x07\x0a-\x0c\x0e-\x1f\x7f-\x9f]|\x1b\[[0-9;?]*[@A-Za-z`])*")
_CSI = re.compile(r"\x1b\[([0-9;?]*)([@A-Za-z`])")
_TEXT_CONTROLS = re.compile(r"([\r\x08\t])")
_CSI_EVENTS: dict[str, str] = dict(pyte.Stream.csi)
_OUTPUT_BREAK = re.compile(r"\n")
_INPUT_BREAK = re.compile(r"[\r\n]")


class Line(NamedTuple):
    t: float  # seconds from the start, as recorded
    tc: float  # seconds on the player's clock (idle gaps cut to IDLE_LIMIT)
    kind: str  # "o" (shown) or "i" (typed)
    text: str


@dataclass
class CastText:
    """The lines of one recording; `error` says why nothing (or not everything) could be read."""

    version: int = 0
    lines: list[Line] = field(default_factory=list)
    error: str = ""


class NotACast(ValueError):
    """The bytes are not an asciicast recording."""


class _LineModel:
    """A pyte listener that keeps one line of screen text and emits it at every line break."""

    def __init__(self, emit: Callable[[str], None], cr_ends_line: bool = False) -> None:
        self._emit = emit
        self._cr_ends_line = cr_ends_line
        self.buf: list[str] = []
        self.col = 0

    def flush(self) -> None:
        text = "".join(self.buf).strip()
        if text:
            self._emit(_CONTROL.sub("", text)[:MAX_LINE])
        self.buf = []
        self.col = 0

    # the events pyte dispatches that change what one line shows
    def draw(self, data: str) -> None:
        if self.col >= MAX_LINE:
            return
        end = self.col + len(data)
        if self.col == len(self.buf):
            self.buf.extend(data)
        else:
            if self.col > len(self.buf):
                self.buf.extend(" " * (self.col - len(self.buf)))
            self.buf[self.col : end] = list(data)
        self.col = end

    def linefeed(self, *args: Any, **kwargs: Any) -> None:
        self.flush()

    # a full-screen program moved the cursor to another row: that starts a new "line"
    index = reverse_index = reset = erase_in_display = linefeed
    cursor_position = cursor_up = cursor_down = cursor_up1 = cursor_down1 = cursor_to_line = linefeed

    def carriage_return(self) -> None:
        if self._cr_ends_line:
            self.flush()
        else:
            self.col = 0

    def backspace(self) -> None:
        if self._cr_ends_line:  # typed: a backspace deletes the character before the cursor
            if self.col > 0:
                del self.buf[self.col - 1]
                self.col -= 1
        else:
            self.col = max(0, self.col - 1)

    def tab(self) -> None:
        self.draw(" ")

    def cursor_back(self, count: int | None = None) -> None:
        self.col = max(0, self.col - (count or 1))

    def cursor_forward(self, count: int | None = None) -> None:
        self.col += count or 1

    def cursor_to_column(self, column: int | None = None) -> None:
        self.col = max(0, (column or 1) - 1)

    def erase_in_line(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how == 0:
            del self.buf[self.col :]
        elif how == 1:
            self.buf[: self.col] = [" "] * min(self.col, len(self.buf))
        else:
            self.buf = []

    def delete_characters(self, count: int | None = None) -> None:
        del self.buf[self.col : self.col + (count or 1)]

    def erase_characters(self, count: int | None = None) -> None:
        n = count or 1
        self.buf[self.col : self.col + n] = [" "] * len(self.buf[self.col : self.col + n])

    def insert_characters(self, count: int | None = None) -> None:
        self.buf[self.col : self.col] = [" "] * (count or 1)

    def __getattr__(self, name: str) -> Callable[..., None]:
        # every other event (colours, modes, tab stops, bells, titles, ...) changes no text
        if name.startswith("_"):
            raise AttributeError(name)
        return _ignore


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


class _Channel:
    """One direction of a recording: its events' data joined, cut into lines, each line cleaned.

    Lines are found in the joined text (output breaks at LF, input at Enter), so the cost is per
    line, not per event (typing records one event per key). A line with only text, CR and tabs
    is resolved here; one with other controls or escape sequences goes through pyte into the
    line model, which applies them.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.parts: list[str] = []
        self.times: list[tuple[float, float]] = []
        self._lines: list[str] = []
        self.model = _LineModel(self._lines.append, cr_ends_line=kind == "i")
        self._stream: pyte.Stream | None = None

    @property
    def stream(self) -> pyte.Stream:
        """pyte's parser, made when a line first needs it (it takes a millisecond to set up)."""
        if self._stream is None:
            self._stream = pyte.Stream(self.model, strict=False)  # type: ignore[arg-type]  # any listener
        return self._stream

    def lines(self) -> Iterator[Line]:
        if not self.parts:
            return
        text = "".join(self.parts)
        starts = list(accumulate(map(len, self.parts), initial=0))
        if self.kind == "i":
            text = text.replace("\x7f", "\b")
            splitter = _INPUT_BREAK
        else:
            splitter = _OUTPUT_BREAK
        pos = 0
        for segment in splitter.split(text):
            at, pos = pos, pos + len(segment) + 1
            if not segment or segment.isspace():
                continue
            t, tc = self.times[bisect.bisect_right(starts, at) - 1]
            if segment[-1] == "\r":
                segment = segment[:-1]
            if segment.isprintable():  # most lines: nothing to interpret
                text = segment.strip()
                if text:
                    yield Line(t, tc, self.kind, text[:MAX_LINE])
                continue
            for cleaned in self._clean(segment):
                yield Line(t, tc, self.kind, cleaned)

    def _clean(self, segment: str) -> list[str]:
        if "\x1b" in segment:
            segment = _INERT.sub("", segment)
        if _SIMPLE.fullmatch(segment):
            if "\r" in segment:
                pieces = segment.split("\r")
                segment = pieces[0]
                for piece in pieces[1:]:
                    segment = piece + segment[len(piece) :]
            text = segment.replace("\t", " ").strip()
            return [text[:MAX_LINE]] if text else []
        self._lines.clear()
        if _CSI_ONLY.fullmatch(segment):
            self._dispatch(segment)
        else:
            self.stream.feed(segment)
        self.model.flush()
        return list(self._lines)

    def _dispatch(self, segment: str) -> None:
        """Text, CR/BS/tab and CSI sequences: the listener calls pyte would make, without its
        per-character parser."""
        model = self.model
        tokens = _CSI.split(segment)
        for i in range(0, len(tokens), 3):
            text = tokens[i]
            if text:
                for piece in (
                    _TEXT_CONTROLS.split(text) if ("\r" in text or "\x08" in text or "\t" in text) else (text,)
                ):
                    if piece == "\r":
                        model.carriage_return()
                    elif piece == "\x08":
                        model.backspace()
                    elif piece == "\t":
                        model.tab()
                    elif piece:
                        model.draw(piece)
            if i + 2 < len(tokens):
                params, final = tokens[i + 1], tokens[i + 2]
                event = _CSI_EVENTS.get(final)
                if event is None or "?" in params:  # private modes change no text
                    continue
                args = [int(p) for p in params.split(";") if p.isdigit()]
                getattr(model, event)(*args)


def _events_v2(rest: str) -> list[Any]:
    """The event lines of a v2/v3 file as parsed JSON (whatever each line holds)."""
    rows = [line for line in rest.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    try:
        events: list[Any] = json.loads("[" + ",".join(rows) + "]")  # one parse for the whole file
    except ValueError:  # a damaged line, or the last one cut short by the size limit
        events = []
        for row in rows:
            try:
                events.append(json.loads(row))
            except ValueError:
                continue
    return events


_V1_EVENT = re.compile(r'\[\s*(-?[0-9.eE+-]+)\s*,\s*("(?:[^"\\]|\\.)*")\s*\]')


def _events_v1(text: str) -> Iterator[tuple[float, str, str]]:
    try:
        doc = json.loads(text)
        frames = doc.get("stdout", []) if isinstance(doc, dict) else []
        pairs: Iterator[tuple[Any, Any]] = (tuple(f[:2]) for f in frames if isinstance(f, list) and len(f) >= 2)
    except ValueError:  # cut short by the size limit: take the complete frames
        body = text.split('"stdout"', 1)[-1]
        pairs = ((m.group(1), json.loads(m.group(2))) for m in _V1_EVENT.finditer(body))
    t = 0.0
    for delay, data in pairs:
        try:
            t += float(delay)
        except (TypeError, ValueError):
            continue
        if isinstance(data, str):
            yield t, "o", data


def header_version(first_line: str, text: str) -> int:
    """The asciicast version of a recording, or raise NotACast."""
    try:
        header = json.loads(first_line)
    except ValueError:
        if re.match(r'\s*\{\s*"version"\s*:\s*1\b', text) or re.search(r'"version"\s*:\s*1\s*[,}]', text[:4096]):
            return 1
        raise NotACast("the first line is not a JSON asciicast header") from None
    if not isinstance(header, dict) or header.get("version") not in (1, 2, 3):
        raise NotACast("not an asciicast header (version 1, 2 or 3)")
    return int(header["version"])


def extract(data: bytes) -> CastText:
    """The lines of an asciicast recording (possibly cut short at any byte); raises NotACast when
    the bytes are not one (binary data, another format)."""
    if b"\x00" in data[:65536]:
        raise NotACast("binary data")
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise NotACast("the file is empty")
    first, _, rest = text.partition("\n")
    version = header_version(first.strip(), text)
    relative = version == 3  # v3 events carry the interval since the previous one
    events: list[Any] = list(_events_v1(text)) if version == 1 else _events_v2(rest)
    channels = {"o": _Channel("o"), "i": _Channel("i")}
    prev = tc = 0.0
    for event in events:  # the hot loop: one pass, checks inline
        try:
            t, code, payload = event[0], event[1], event[2]
            t = prev + t if relative else t + 0.0
        except (TypeError, IndexError, KeyError):
            continue  # not [time, code, data]
        gap = t - prev
        if gap > 0:
            tc += gap if gap < IDLE_LIMIT else IDLE_LIMIT
        prev = t
        channel = channels.get(code) if type(code) is str and type(payload) is str else None
        if channel is not None:
            channel.parts.append(payload)
            channel.times.append((t, tc))
    out = [line for channel in channels.values() for line in channel.lines()]
    out.sort(key=lambda line: line.t)
    return CastText(version=version, lines=out)
