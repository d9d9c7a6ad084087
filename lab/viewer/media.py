"""How long a video recording lasts, read from the first bytes of the file, so presigned links
can be made to outlive it.

Matroska/WebM (what `sft session-logs export --format mkv` writes): EBML elements
(RFC 8794); `Segment/Info/Duration` is a float in `TimecodeScale` units (nanoseconds, default
1,000,000), RFC 9559 §5.1.2. MP4: the `moov/mvhd` box holds timescale and duration
(ISO/IEC 14496-12 §8.2.2); files with `moov` at the end answer None.
"""

from __future__ import annotations

import struct

_EBML, _SEGMENT, _INFO = 0x1A45DFA3, 0x18538067, 0x1549A966
_TIMECODE_SCALE, _DURATION = 0x2AD7B1, 0x4489


def video_seconds(head: bytes) -> float | None:
    """The duration in seconds that the file's header declares, or None when it says nothing
    (or `head` is not a Matroska/WebM/MP4 start)."""
    try:
        if head.startswith(b"\x1a\x45\xdf\xa3"):
            return _matroska(head)
        if head[4:8] == b"ftyp":
            return _mp4(head)
    except (IndexError, struct.error, ValueError):
        return None
    return None


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """(value, next position, all value bits set) of the EBML variable-size integer at `pos`."""
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        raise ValueError("bad EBML vint")
    value = first if keep_marker else first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    if pos + length > len(data):
        raise IndexError
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, pos + length, unknown


def _matroska(data: bytes) -> float | None:
    pos, end = 0, len(data)
    scale, duration = 1_000_000, None
    while pos < end:
        eid, pos, _ = _vint(data, pos, keep_marker=True)
        size, pos, unknown = _vint(data, pos, keep_marker=False)
        if eid in (_SEGMENT, _INFO):
            if eid == _INFO:
                end = min(end, pos + size)
            continue  # descend into the master element
        if eid == _TIMECODE_SCALE:
            scale = int.from_bytes(data[pos : pos + size], "big")
        elif eid == _DURATION:
            duration = struct.unpack(">f" if size == 4 else ">d", data[pos : pos + size])[0]
        if unknown:
            return None
        pos += size
    if duration is None or duration <= 0:
        return None
    return float(duration) * scale / 1e9


def _mp4(data: bytes) -> float | None:
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"moov":
            pos += 8
            continue
        if kind == b"mvhd":
            version = data[pos + 8]
            if version == 1:
                timescale, duration = struct.unpack(">IQ", data[pos + 28 : pos + 40])
            else:
                timescale, duration = struct.unpack(">II", data[pos + 20 : pos + 28])
            return duration / timescale if timescale and duration else None
        if size < 8:
            return None
        pos += size
    return None


MAX_LINK_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
UNKNOWN_LENGTH_SECONDS = 12 * 3600  # a video whose header gives no duration


def link_lifetime(base: int, seconds: float | None) -> int:
    """Seconds a presigned link to a video must live: twice the video (pauses, slow playback)
    plus `base` (VIEWER_PRESIGN_SECONDS), never less than `base`, at most 7 days; 12 hours when
    the length is unknown. The page also swaps in a fresh link if one expires anyway."""
    if seconds is None:
        return max(base, UNKNOWN_LENGTH_SECONDS)
    return min(MAX_LINK_SECONDS, max(base, int(seconds * 2) + base))
