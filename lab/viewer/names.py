"""Recording names: the OPA gateway convention, parsed into a `Recording`.

The gateway names a recording
`{protocol}~{YYYYMMDDTHHMMSS.ffff}~{team}~{project}~{server}~{user}~{suffix}` (set by
`LogFileNameFormats` in `sft-gatewayd.yaml`); `sft session-logs export` turns SSH recordings
into asciicast (`.cast`) and RDP ones into a directory of `<stem>.asa-N.mkv` files. Names that
do not follow the convention are still listed, with what can be known from the extension and the
storage (size, modification time).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

#: Extensions the viewer lists, and the kind of player each needs.
EXTENSIONS: dict[str, str] = {".cast": "cast", ".mkv": "video", ".mp4": "video", ".webm": "video"}

_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$")
_PART = re.compile(r"\.asa-(\d+)$")
_PROTOCOLS = ("ssh", "rdp")

#: The longest id, in UTF-8 bytes (S3's limit for a whole key).
MAX_ID_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording in storage. `id` is its key relative to the storage root or prefix."""

    id: str
    name: str
    kind: str  # "cast" (asciicast, SSH) or "video" (RDP)
    protocol: str  # "ssh", "rdp"
    started: datetime  # from the name when it parses, else the storage modification time
    parsed: bool
    team: str = ""
    project: str = ""
    server: str = ""
    user: str = ""
    suffix: str = ""
    part: int = 0  # N of `.asa-N.mkv`
    size: int = 0  # bytes (of all parts, for a session in parts)
    session: str = ""  # for `.asa-N.<ext>`: the key without that suffix, shared by the parts
    parts: tuple[str, ...] = ()  # the ids of a session's parts in order (two or more), else ()

    @property
    def day(self) -> str:
        return self.started.date().isoformat()

    @property
    def media_type(self) -> str:
        ext = self.name.rsplit(".", 1)[-1].lower()
        return {
            "cast": "application/x-asciicast",
            "mkv": "video/x-matroska",
            "mp4": "video/mp4",
            "webm": "video/webm",
        }.get(ext, "application/octet-stream")


def extension_of(name: str) -> str:
    """The recording extension of `name` (`.cast`, `.mkv`, ...) or '' if not a recording."""
    lower = name.lower()
    for ext in EXTENSIONS:
        if lower.endswith(ext) and len(lower) > len(ext):
            return ext
    return ""


def is_recording(key: str) -> bool:
    return bool(extension_of(key.rsplit("/", 1)[-1]))


def parse_time(text: str) -> datetime | None:
    """`20260313T112035.8319` -> an aware UTC datetime, or None."""
    m = _TIME.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second, frac = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError:
        return None


def parse(key: str, size: int = 0, mtime: float = 0.0) -> Recording:
    """Parse the storage key `key` into a Recording; never raises for odd names."""
    name = key.rsplit("/", 1)[-1]
    ext = extension_of(name)
    kind = EXTENSIONS.get(ext, "video")
    stem = name[: -len(ext)] if ext else name
    part = 0
    session = ""
    m = _PART.search(stem)
    if m:
        part = int(m.group(1))
        stem = stem[: m.start()]
        session = key[: len(key) - len(name)] + stem
    fallback_time = datetime.fromtimestamp(mtime, tz=UTC)
    guessed = "ssh" if kind == "cast" else "rdp"
    fields = stem.split("~")
    if len(fields) >= 7:
        protocol, when, team, project, server, user = (f.strip() for f in fields[:6])
        suffix = "~".join(fields[6:])
        started = parse_time(when)
        if protocol.lower() in _PROTOCOLS and started is not None and all((team, project, server, user)):
            return Recording(
                id=key,
                name=name,
                kind=kind,
                protocol=protocol.lower(),
                started=started,
                parsed=True,
                team=team,
                project=project,
                server=server,
                user=user,
                suffix=suffix,
                part=part,
                size=size,
                session=session,
            )
    protocol = fields[0].lower() if fields and fields[0].lower() in _PROTOCOLS else guessed
    return Recording(
        id=key,
        name=name,
        kind=kind,
        protocol=protocol,
        started=fallback_time,
        parsed=False,
        part=part,
        size=size,
        session=session,
    )


def valid_id(value: str) -> bool:
    """True when `value` is a recording id: the one rule the listers and the routes share.

    An id is a storage key relative to the root (or bucket prefix): `/`-separated segments, each
    non-empty and not starting with `.` (so no `.`, `..` or hidden files), no backslash, no
    control or unpaired-surrogate characters (undecodable file names), at most MAX_ID_LENGTH
    bytes of UTF-8, ending in a recording extension. Anything else is allowed: non-ASCII
    letters, emoji, apostrophes, `#`, `%`, spaces. Checked before any storage access; the local
    backend also confirms that the resolved path stays inside its root (symlinks included).
    """
    if not isinstance(value, str) or not value or "\\" in value:
        return False
    try:
        if len(value.encode("utf-8")) > MAX_ID_LENGTH:
            return False
    except UnicodeEncodeError:  # lone surrogates from undecodable file names
        return False
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        return False
    parts = value.split("/")
    return all(p and not p.startswith(".") for p in parts) and is_recording(value)


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 §4.3, RFC 8187)."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\%' else "_" for ch in name)
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
