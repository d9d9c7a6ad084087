"""The rough edges users met in the viewer (issue 15), one kind per test, in-process over a real
folder: odd names, asciicast variants, sign-out, rate limits, redirects, error pages, RDP parts,
presigned lifetimes, the graph at scale and the small list-page details."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from lab.viewer.app import create_app
from lab.viewer.storage import LocalStorage
from tests.unit.test_viewer_app import login, settings

V2 = b'{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "hello"]\n[1.5, "o", " world"]\n'
UNICODE_NAMES = [
    "ssh~20260102T030405.1~équipe~projet~serveur-01~zoë.müller~x.cast",
    "ssh~20260102T030405.2~t~p~s~o'brien~x.cast",
    "ssh~20260102T030405.3~t~p~s~u~run#2.cast",
    "ssh~20260102T030405.4~t~p~s~u~🚀launch.cast",
    "日本/セッション 1.cast",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edges")
    for name in UNICODE_NAMES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(V2)
    (root / "control\x07char.cast").write_bytes(V2)  # not an id: neither listed nor playable
    (root / ".hidden.cast").write_bytes(V2)
    return root


@pytest.fixture()
def client(folder: Path) -> Iterator[TestClient]:
    app = create_app(settings(), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def user(client: TestClient) -> TestClient:
    assert login(client) == 303
    return client


def listed_ids(html: str) -> list[str]:
    from urllib.parse import unquote

    return [unquote(m) for m in re.findall(r'<a class="play" href="/play\?id=([^"]+)"', html)]


# -- one rule for recording ids ----------------------------------------------------------------


def test_every_listed_recording_plays_and_downloads(user: TestClient, folder: Path) -> None:
    ids = listed_ids(user.get("/sessions?per_page=100").text)
    assert sorted(ids) == sorted(UNICODE_NAMES)  # the control-character and hidden names are not listed
    for rid in ids:
        assert user.get(f"/play?id={quote(rid, safe='')}").status_code == 200, rid
        r = user.get(f"/download?id={quote(rid, safe='')}")
        assert r.status_code == 200 and r.content == V2, rid
        assert "filename*=utf-8''" in r.headers["content-disposition"].lower() or rid.isascii()
        assert user.get(f"/media?id={quote(rid, safe='')}").content == V2


def test_names_outside_the_rule_are_refused_by_the_routes(user: TestClient) -> None:
    assert user.get(f"/media?id={quote('control' + chr(7) + 'char.cast')}").status_code == 400
    assert user.get("/media?id=.hidden.cast").status_code == 400


# -- casts the bundled player can play -----------------------------------------------------------


def v1_cast(frames: int, pretty: bool = False, size_last: bool = False) -> bytes:
    """An asciicast v1 document (one JSON object, `stdout` as [delay, text] frames)."""
    import json

    doc: dict[str, object] = {"version": 1, "width": 100, "height": 30, "duration": frames * 0.5}
    stdout = [[0.5, f"line {i}\r\n"] for i in range(frames)]
    if size_last:
        doc = {"version": 1, "stdout": stdout, "width": 100, "height": 30}
    else:
        doc["stdout"] = stdout
    return json.dumps(doc, indent=2 if pretty else None).encode()


CASTS = {
    "v1-small.cast": v1_cast(5),
    "v1-pretty.cast": v1_cast(5, pretty=True),
    "v1-large.cast": v1_cast(8000),
    "v1-size-after-stdout.cast": v1_cast(8000, size_last=True),
    "v2-bom.cast": b"\xef\xbb\xbf" + V2,
}


@pytest.fixture(scope="module")
def cast_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("casts")
    for name, data in CASTS.items():
        (root / name).write_bytes(data)
    app = create_app(settings(), LocalStorage(root), background_index=False)
    with TestClient(app) as c:
        assert login(c) == 303
        yield c


@pytest.mark.parametrize("name", sorted(CASTS))
def test_v1_and_bom_casts_get_the_player(cast_client: TestClient, name: str) -> None:
    assert len(CASTS["v1-large.cast"]) > 65536
    r = cast_client.get(f"/play?id={name}")
    assert r.status_code == 200 and 'id="player"' in r.text and "not a valid asciicast" not in r.text
    if name != "v1-size-after-stdout.cast":
        assert 'data-cols="100"' in r.text or name == "v2-bom.cast"
    else:
        assert "data-cols" not in r.text  # the player reads the size from the file


def test_player_offers_speed_idle_choice_and_real_duration(cast_client: TestClient) -> None:
    html = cast_client.get("/play?id=v2-bom.cast").text
    speeds = re.findall(r'<select id="speed">(.*?)</select>', html, re.S)[0]
    assert re.findall(r'value="([\d.]+)"', speeds) == ["0.5", "1", "1.5", "2", "4", "8"]
    assert 'id="idle"' in html and "real time" in html and 'id="real-duration"' in html
