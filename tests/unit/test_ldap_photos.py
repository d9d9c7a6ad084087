"""Generated profile photos: valid JPEGs that show the initials, byte-for-byte deterministic."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from lab.company import load_company
from lab.config import LabConfig
from lab.ldap import photos
from tests.unit.test_ldap_render import make_env, render


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every scan: a broken entropy stream raises here
    return image.convert("RGB")


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _photos(ldif: str) -> dict[str, bytes]:
    """uid -> jpegPhoto bytes from rendered LDIF."""
    out: dict[str, bytes] = {}
    for block in ldif.replace("\n ", "").split("\n\n"):
        uid = re.search(r"^uid: (.+)$", block, re.M)
        photo = re.search(r"^jpegPhoto:: (.+)$", block, re.M)
        if uid and photo:
            out[uid.group(1)] = base64.b64decode(photo.group(1))
    return out


def test_avatar_is_a_baseline_jfif_of_the_expected_size() -> None:
    data = photos.avatar_jpeg("Luke", "Skywalker", "luke.skywalker")
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert data[6:11] == b"JFIF\x00"
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (photos.SIZE, photos.SIZE)
    assert len(data) < 8000  # small enough for thousands of entries


def test_background_is_the_users_colour_and_the_letters_are_white() -> None:
    image = _decode(photos.avatar_jpeg("Luke", "Skywalker", "luke.skywalker"))
    colour = photos.colour_for("luke.skywalker")
    for corner in ((1, 1), (94, 1), (1, 94), (94, 94)):
        assert _close(image.getpixel(corner), colour), corner
    # "L": its vertical stroke is the first font column of the left letter cell
    top = (photos.SIZE - 7 * photos.SCALE) // 2
    left = (photos.SIZE - 80) // 2 + (40 - 5 * photos.SCALE) // 2
    assert _close(image.getpixel((left + 2, top + 10)), photos.WHITE, 24)
    assert _close(image.getpixel((left + 20, top + 10)), colour, 24)  # inside the L's open side


def test_the_same_person_gives_the_same_bytes_and_others_differ() -> None:
    first = photos.avatar_jpeg("Leia", "Organa", "leia.organa")
    photos._avatar.cache_clear()
    assert photos.avatar_jpeg("Leia", "Organa", "leia.organa") == first
    assert photos.avatar_jpeg("Han", "Solo", "han.solo") != first


@pytest.mark.parametrize(
    ("given", "sn", "uid", "expected"),
    [
        ("Luke", "Skywalker", "luke.skywalker", "LS"),
        ("Émile", "Ökland", "emile", "EO"),  # accents dropped
        ("R2-D2", "", "r2-d2", "R"),
        ("", "", "c-3po", "C3"),  # nothing drawable in the name: the uid
        ("李", "王", "42x", "42"),
        ("李", "王", "--", ""),
    ],
)
def test_initials(given: str, sn: str, uid: str, expected: str) -> None:
    assert photos.initials(given, sn, uid) == expected


def test_a_person_without_drawable_initials_still_gets_a_picture() -> None:
    image = _decode(photos.avatar_jpeg("李", "王", "--"))
    assert _close(image.getpixel((48, 48)), photos.colour_for("--"))


def test_every_glyph_square_is_white_and_the_rest_is_the_colour() -> None:
    """The whole picture, not a few pixels: each font square is white at its centre."""
    image = _decode(photos.avatar_jpeg("Han", "Solo", "han.solo"))
    colour = photos.colour_for("han.solo")
    boxes = photos.glyph_boxes("HS")
    assert boxes
    for left, top, right, bottom in boxes:
        centre = ((left + right) // 2, (top + bottom) // 2)
        assert _close(image.getpixel(centre), photos.WHITE, 24), centre
    covered = {(x, y) for x0, y0, x1, y1 in boxes for x in range(x0 - 1, x1 + 2) for y in range(y0 - 1, y1 + 2)}
    for y in range(0, photos.SIZE, 5):
        for x in range(0, photos.SIZE, 5):
            if (x, y) not in covered:
                assert _close(image.getpixel((x, y)), colour, 24), (x, y)


def test_photos_are_baseline_4_4_4_without_metadata() -> None:
    image = Image.open(io.BytesIO(photos.avatar_jpeg("Leia", "Organa", "leia.organa")))
    assert not image.info.get("progressive") and "exif" not in image.info
    assert [(h, v) for _id, h, v, _q in image.layer] == [(1, 1)] * 3  # no chroma subsampling


def test_ldif_carries_one_photo_per_user_when_enabled() -> None:
    cfg = LabConfig.from_mapping(make_env())
    assert cfg.ldap.photos is True  # the default
    company = load_company(cfg.core.company)
    got = _photos(render(cfg, "20-people"))
    assert len(got) == len(company.people)
    luke = got[f"luke.skywalker@{cfg.ldap.mail_domain}"]
    assert _decode(luke).size == (photos.SIZE, photos.SIZE)
    assert len(set(got.values())) > 1


def test_ldif_has_no_photos_when_disabled() -> None:
    cfg = LabConfig.from_mapping(make_env(LDAP_PHOTOS="false"))
    assert "jpegPhoto" not in render(cfg, "20-people")


def test_rendering_twice_gives_identical_ldif() -> None:
    cfg = LabConfig.from_mapping(make_env())
    first = render(cfg, "20-people")
    photos._avatar.cache_clear()
    assert render(cfg, "20-people") == first


def test_bad_photos_value_is_a_config_error() -> None:
    from lab.errors import ConfigError

    with pytest.raises(ConfigError, match="LDAP_PHOTOS"):
        LabConfig.from_mapping(make_env(LDAP_PHOTOS="maybe"))
