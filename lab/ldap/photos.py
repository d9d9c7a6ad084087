"""Generated profile photos: an initials avatar per user, as a small baseline JPEG (`jpegPhoto`).

No imaging library: a 5x7 bitmap font, scaled, on a flat colour picked from the user id, encoded
by a minimal baseline (sequential DCT, Huffman) JPEG writer (ITU-T T.81, Annex A/F, JFIF 1.02).
Everything is integer arithmetic over fixed tables, so the same person always gives the same bytes
on every machine: rendering the LDIF stays deterministic.

The LDAP attribute is `jpegPhoto` (RFC 2798 §2.6), carried base64-encoded in LDIF (RFC 2849).
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Iterator
from functools import cache
from typing import TypeVar

T = TypeVar("T")

SIZE = 96  # pixels; a multiple of 8 (one JPEG block)
SCALE = 6  # font pixel -> image pixels: a glyph is 30 x 42
QUALITY = 90

#: Background colours (RGB); the text is white.
PALETTE = (
    (0x1F, 0x4E, 0x79),
    (0x2E, 0x7D, 0x32),
    (0x8E, 0x24, 0xAA),
    (0xC6, 0x28, 0x28),
    (0xEF, 0x6C, 0x00),
    (0x00, 0x83, 0x8F),
    (0x45, 0x5A, 0x64),
    (0x6D, 0x4C, 0x41),
)
WHITE = (0xFF, 0xFF, 0xFF)

# 5x7 glyphs, one string of five bits per row.
_FONT_ROWS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
}
FONT: dict[str, tuple[str, ...]] = {ch: tuple(rows.split()) for ch, rows in _FONT_ROWS.items()}


def initials(given_name: str, sn: str, fallback: str = "") -> str:
    """Up to two letters the font can draw: first of the given name and of the surname.

    Accents are dropped (NFKD); a name with no drawable letter contributes nothing, and when
    neither does, the first drawable characters of `fallback` (the user id) are used.
    """

    def drawable(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().upper()
        return "".join(ch for ch in plain if ch in FONT)

    letters = "".join(drawable(part)[:1] for part in (given_name, sn))
    return letters or drawable(fallback)[:2]


def colour_for(key: str) -> tuple[int, int, int]:
    """A palette colour chosen by a stable hash of `key` (the user id)."""
    return PALETTE[hashlib.sha256(key.encode()).digest()[0] % len(PALETTE)]


def avatar_jpeg(given_name: str, sn: str, uid: str) -> bytes:
    """The JPEG avatar of one person: their initials in white on their colour."""
    return _avatar(initials(given_name, sn, uid), colour_for(uid))


def person_photo(person: object) -> bytes:
    """Jinja2 filter `jpeg_photo`: the avatar of a `lab.company.Person`."""
    return avatar_jpeg(
        str(getattr(person, "given_name", "")), str(getattr(person, "sn", "")), str(getattr(person, "uid", ""))
    )


# --- the picture -------------------------------------------------------------------------------


def _pixels(text: str) -> list[list[bool]]:
    """SIZE x SIZE mask, True where the text is. Each letter sits centred in a 40-pixel cell whose
    edges fall on the 8-pixel block grid, so an image's blocks depend only on letter and place."""
    mask = [[False] * SIZE for _ in range(SIZE)]
    cell = 40
    left = (SIZE - cell * len(text)) // 2
    top = (SIZE - 7 * SCALE) // 2
    for i, ch in enumerate(text):
        x0 = left + i * cell + (cell - 5 * SCALE) // 2
        for row, bits in enumerate(FONT[ch]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    for y in range(top + row * SCALE, top + (row + 1) * SCALE):
                        for x in range(x0 + col * SCALE, x0 + (col + 1) * SCALE):
                            mask[y][x] = True
    return mask


@cache
def _masks(text: str) -> tuple[tuple[bool, ...], ...]:
    """The text mask cut into 8x8 blocks, in raster order."""
    return tuple(_blocks(_pixels(text), SIZE, SIZE))


@cache
def _mask_block(mask: tuple[bool, ...], fg: int, bg: int, table: int) -> tuple[int, ...]:
    return _block_coefficients(tuple(fg if m else bg for m in mask), table)


@cache
def _avatar(text: str, colour: tuple[int, int, int]) -> bytes:
    fg, bg = _ycc(WHITE), _ycc(colour)
    blocks = [tuple(_mask_block(mask, fg[c], bg[c], 0 if c == 0 else 1) for c in range(3)) for mask in _masks(text)]
    return _jpeg(blocks, SIZE, SIZE)


@cache
def _ycc(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """RGB -> YCbCr (JFIF 1.02), integers 0..255."""
    r, g, b = rgb
    y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16
    cb = ((-11059 * r - 21709 * g + 32768 * b + 32768) >> 16) + 128
    cr = ((32768 * r - 27439 * g - 5329 * b + 32768) >> 16) + 128
    return tuple(max(0, min(255, v)) for v in (y, cb, cr))  # type: ignore[return-value]


# --- the encoder (baseline sequential DCT, ITU-T T.81) -----------------------------------------

#: Zig-zag sequence of the 64 coefficients (T.81 Figure A.6): ZIGZAG[k] = row * 8 + col.
ZIGZAG = tuple(
    r * 8 + c
    for s in range(15)
    for r, c in (
        [(i, s - i) for i in range(8) if 0 <= s - i < 8] if s % 2 else [(s - i, i) for i in range(8) if 0 <= s - i < 8]
    )
)

# Example quantisation tables (T.81 Annex K.1), row-major, scaled to QUALITY like the IJG does.
_LUMA_Q = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMA_Q = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip


def _scaled(table: tuple[int, ...], quality: int = QUALITY) -> tuple[int, ...]:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(max(1, min(255, (q * scale + 50) // 100)) for q in table)


QUANT = (_scaled(_LUMA_Q), _scaled(_CHROMA_Q))

# Huffman tables: one DC and one AC table shared by all components, every symbol the baseline
# encoder can emit given a code of one fixed length (T.81 Annex C: canonical codes from BITS).
# Simple and valid; the pictures are flat, so the cost in size is a few hundred bytes.
DC_SYMBOLS = tuple(range(12))
AC_SYMBOLS = (0x00, 0xF0, *(run << 4 | size for run in range(16) for size in range(1, 11)))
DC_BITS = 4  # 12 codes of 4 bits (the all-ones code stays unused)
AC_BITS = 8  # 162 codes of 8 bits


def _codes(symbols: tuple[int, ...]) -> dict[int, int]:
    return {sym: i for i, sym in enumerate(symbols)}  # canonical codes of one length: 0, 1, 2, ...


DC_CODES = _codes(DC_SYMBOLS)
AC_CODES = _codes(AC_SYMBOLS)

_FIX = 14  # fixed-point bits of the cosine table
#: COS[u][x] = C(u)/2 * cos((2x+1)u*pi/16) * 2**_FIX, rounded: the 1-D DCT (T.81 A.3.3) as integers.
COS = tuple(
    tuple(round((math.sqrt(0.5) if u == 0 else 1.0) / 2 * math.cos((2 * x + 1) * u * math.pi / 16) * (1 << _FIX))
          for x in range(8))
    for u in range(8)
)  # fmt: skip


@cache
def _block_coefficients(block: tuple[int, ...], table: int) -> tuple[int, ...]:
    """Forward DCT of one 8x8 block (level-shifted), quantised, in zig-zag order."""
    shifted = [v - 128 for v in block]
    # rows, then columns (separable); integer maths, one rounding at the end
    rows = [[sum(COS[u][x] * shifted[y * 8 + x] for x in range(8)) for u in range(8)] for y in range(8)]
    coeff = [sum(COS[v][y] * rows[y][u] for y in range(8)) for v in range(8) for u in range(8)]
    q = QUANT[table]
    out = []
    for k in ZIGZAG:
        denom = q[k] << (2 * _FIX)
        value = coeff[k]
        # round half away from zero
        n = (abs(value) * 2 + denom) // (2 * denom)
        out.append(n if value >= 0 else -n)
    return tuple(out)


def _magnitude(value: int) -> tuple[int, int]:
    """(SSSS category, additional bits) of a DC difference or AC coefficient (T.81 F.1.2.1)."""
    size = abs(value).bit_length()
    bits = value if value >= 0 else value + (1 << size) - 1
    return size, bits


@cache
def _ac_bits(coeffs: tuple[int, ...]) -> tuple[int, int]:
    """The AC part of one block's entropy-coded data as (bits, length) (T.81 F.1.2.2)."""
    bits = length = 0

    def put(value: int, n: int) -> None:
        nonlocal bits, length
        bits = (bits << n) | value
        length += n

    run = 0
    last = max((k for k in range(1, 64) if coeffs[k]), default=0)
    for k in range(1, last + 1):
        if coeffs[k] == 0:
            run += 1
            continue
        while run > 15:
            put(AC_CODES[0xF0], AC_BITS)  # ZRL: sixteen zeros
            run -= 16
        size, extra = _magnitude(coeffs[k])
        put(AC_CODES[run << 4 | size], AC_BITS)
        put(extra, size)
        run = 0
    if last < 63:
        put(AC_CODES[0x00], AC_BITS)  # EOB
    return bits, length


def _scan(blocks: list[tuple[tuple[int, ...], ...]]) -> bytes:
    """Entropy-coded segment of interleaved MCUs (one block per component), byte-stuffed."""
    bits = length = 0
    dc = [0] * len(blocks[0]) if blocks else []
    for mcu in blocks:
        for c, coeffs in enumerate(mcu):
            size, extra = _magnitude(coeffs[0] - dc[c])
            dc[c] = coeffs[0]
            ac, ac_len = _ac_bits(coeffs)
            bits = (((((bits << DC_BITS) | DC_CODES[size]) << size) | extra) << ac_len) | ac
            length += DC_BITS + size + ac_len
    pad = -length % 8
    bits = (bits << pad) | ((1 << pad) - 1)  # pad with 1-bits (T.81 F.1.2.3)
    data = bits.to_bytes((length + pad) // 8, "big")
    return data.replace(b"\xff", b"\xff\x00")  # byte stuffing


def _blocks(plane: list[list[T]], width: int, height: int) -> Iterator[tuple[T, ...]]:
    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            yield tuple(plane[by + y][bx + x] for y in range(8) for x in range(8))


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _huffman_segment(table_class: int, table_id: int, length: int, symbols: tuple[int, ...]) -> bytes:
    counts = bytes(len(symbols) if i + 1 == length else 0 for i in range(16))
    return bytes([table_class << 4 | table_id]) + counts + bytes(symbols)


def encode_jpeg(planes: list[list[list[int]]], width: int, height: int) -> bytes:
    """Baseline JFIF of three full-resolution planes (Y, Cb, Cr; 4:4:4); sides multiples of 8."""
    if width % 8 or height % 8:
        raise ValueError("width and height must be multiples of 8")
    per_plane = [list(_blocks(p, width, height)) for p in planes]
    blocks = [
        tuple(_block_coefficients(per_plane[c][i], 0 if c == 0 else 1) for c in range(3))
        for i in range(len(per_plane[0]))
    ]
    return _jpeg(blocks, width, height)


def _jpeg(blocks: list[tuple[tuple[int, ...], ...]], width: int, height: int) -> bytes:
    header = b"".join(
        [
            b"\xff\xd8",  # SOI
            _segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"),  # APP0, no thumbnail
            _segment(0xDB, b"".join(bytes([t]) + bytes(QUANT[t][k] for k in ZIGZAG) for t in (0, 1))),
            _segment(
                0xC0,  # SOF0: 8-bit, 3 components, no subsampling; quant table 0 for Y, 1 for chroma
                bytes([8])
                + height.to_bytes(2, "big")
                + width.to_bytes(2, "big")
                + bytes([3])
                + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]),
            ),  # fmt: skip
            _segment(
                0xC4,
                _huffman_segment(0, 0, DC_BITS, DC_SYMBOLS) + _huffman_segment(1, 0, AC_BITS, AC_SYMBOLS),
            ),
            _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0])),  # SOS
        ]
    )
    return header + _scan(blocks) + b"\xff\xd9"  # EOI
