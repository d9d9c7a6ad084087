"""Time bounds of the recording list and the API: a day, or an ISO 8601 date-time to any precision.

`from` is the first instant it names; `to` runs to the end of what it names (a day to the next
midnight, a minute to the next minute, a second to the next second, microseconds exactly), so
`from=10:30&to=10:30` is the whole minute. Times without an offset are read in `tz` (an IANA
zone, the browser's on the list page), else UTC. Bounds are exact UTC instants: `start`
inclusive, `end` exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FORM = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hh>\d{2}):(?P<mm>\d{2})(?::(?P<ss>\d{2})(?:\.(?P<frac>\d{1,6}))?)?"
    r"(?P<off>Z|[+-]\d{2}:?\d{2})?)?"
)
HINT = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.ffffff]], optionally ending in Z or ±HH:MM"
MAX_TZ = 64


class BadTime(ValueError):
    """A time that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class Bound:
    """One parsed bound: the instant it starts at and the length of what it names."""

    start: datetime  # aware, UTC
    step: timedelta  # 1 day, 1 minute, 1 second or 1 microsecond

    @property
    def end(self) -> datetime:
        return self.start + self.step


def zone(name: str | None) -> tzinfo | None:
    """The IANA zone `name`, UTC for an empty name, None when unknown."""
    if not name:
        return UTC
    if len(name) > MAX_TZ or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_bound(text: str, tz: tzinfo = UTC) -> Bound:
    """`2026-03-02`, `2026-03-02T10:30`, `…:45`, `…:45.123456`, each optionally with `Z`/`+01:00`."""
    m = _FORM.fullmatch(text.strip())
    if m is None:
        raise BadTime(HINT)
    try:
        day = date.fromisoformat(m["day"])
        if m["hh"] is None:
            return Bound(datetime.combine(day, datetime.min.time(), tz).astimezone(UTC), timedelta(days=1))
        frac = m["frac"] or ""
        local = datetime(day.year, day.month, day.day, int(m["hh"]), int(m["mm"]), int(m["ss"] or 0),
                         int(frac.ljust(6, "0") or 0))  # fmt: skip
    except ValueError as exc:
        raise BadTime(f"{exc}; {HINT}") from None
    off = m["off"]
    if off == "Z":
        local = local.replace(tzinfo=UTC)
    elif off:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            raise BadTime(f"offset {off} is out of range; {HINT}")
        local = local.replace(tzinfo=timezone(sign * delta))
    else:
        local = local.replace(tzinfo=tz)
    if m["ss"] is None:
        step = timedelta(minutes=1)
    elif not frac:
        step = timedelta(seconds=1)
    else:
        step = timedelta(microseconds=1)
    return Bound(local.astimezone(UTC), step)


def minute_input(instant: datetime, tz: tzinfo) -> str:
    """`YYYY-MM-DDTHH:MM` in `tz`, the value a `datetime-local` input shows."""
    return instant.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def utc_label(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
