"""Generated profile photos: an initials avatar per user, as a small baseline JPEG (`jpegPhoto`).

A 5x7 bitmap font, scaled, on a flat colour picked from the user id, drawn and encoded by Pillow
(libjpeg: baseline, 4:4:4, standard Huffman tables, no metadata). The same person gives the same
bytes for a given Pillow build, so rendering the LDIF stays deterministic (the golden files in
tests/render/cases pin it; `make golden` after a Pillow upgrade that changes libjpeg's output).

The LDAP attribute is `jpegPhoto` (RFC 2798 §2.6), carried base64-encoded in LDIF (RFC 2849).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from functools import cache

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


def glyph_boxes(text: str) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles (left, top, right, bottom; inclusive) the text covers on a SIZE x SIZE image.

    Each letter sits centred in a 40-pixel cell; each set font bit is a SCALE x SCALE square.
    """
    boxes = []
    cell = 40
    left = (SIZE - cell * len(text)) // 2
    top = (SIZE - 7 * SCALE) // 2
    for i, ch in enumerate(text):
        x0 = left + i * cell + (cell - 5 * SCALE) // 2
        for row, bits in enumerate(FONT[ch]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    x, y = x0 + col * SCALE, top + row * SCALE
                    boxes.append((x, y, x + SCALE - 1, y + SCALE - 1))
    return boxes


@cache
def _avatar(text: str, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw  # imported on first use: only LDIF rendering needs it

    image = Image.new("RGB", (SIZE, SIZE), colour)
    draw = ImageDraw.Draw(image)
    for box in glyph_boxes(text):
        draw.rectangle(box, fill=WHITE)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, subsampling=0, optimize=False, progressive=False)
    return out.getvalue()
