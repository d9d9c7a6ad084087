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
