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
from dataclasses import dataclass
from datetime import UTC, datetime

#: Extensions the viewer lists, and the kind of player each needs.
EXTENSIONS: dict[str, str] = {".cast": "cast", ".mkv": "video", ".mp4": "video", ".webm": "video"}

_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$")
_PART = re.compile(r"\.asa-(\d+)$")
_PROTOCOLS = ("ssh", "rdp")

#: What may appear in a recording id (a storage key relative to the root or prefix).
_ID = re.compile(r"^[A-Za-z0-9~_.,+=@ ()\[\]-]+(?:/[A-Za-z0-9~_.,+=@ ()\[\]-]+)*$")
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
    size: int = 0

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
    m = _PART.search(stem)
    if m:
        part = int(m.group(1))
        stem = stem[: m.start()]
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
    )


def valid_id(value: str) -> bool:
    """True when `value` is a safe relative key: no traversal, no absolute path, no odd bytes.

    Checked before any storage access; the local backend also confirms the resolved path
    stays inside its root.
    """
    if not value or len(value) > MAX_ID_LENGTH or not _ID.match(value):
        return False
    parts = value.split("/")
    return all(p not in (".", "..") and p.strip() == p for p in parts) and is_recording(value)
