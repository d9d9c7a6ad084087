"""The search page in-process (Starlette TestClient): sign-in required, hits per session that
link to the player at their time, what the text of a recording can do to the page (nothing),
and problems said in one line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.pages import search_health
from lab.viewer.search import Status
from lab.viewer.storage import LocalStorage

PASSWORD = "correct-horse-battery"
SUDO = "ssh~20260302T101500.0001~ops~core~bastion-01~alice~-1-0001.cast"
XSS = "ssh~20260301T101500.0001~ops~core~bastion-01~mallory~-1-0002.cast"


def cast(*events: list[object]) -> bytes:
    lines = [json.dumps({"version": 2, "width": 80, "height": 24})] + [json.dumps(e) for e in events]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("recordings")
    storage = LocalStorage(root)
    storage.put_bytes(
        SUDO, cast([0.5, "o", "$ "], [1.0, "i", "sudo su\r"], [1.2, "o", "sudo su\r\n"], [90, "o", "# id\r\n"])
    )
    storage.put_bytes(XSS, cast([0.5, "o", "$ echo '<script>alert(1)</script>' sudo su\r\n"]))
    db = tmp_path_factory.mktemp("data") / "search.sqlite3"
    settings = ViewerSettings.model_validate({"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "s" * 48})
    with TestClient(create_app(settings, storage, background_index=False, search_db=db)) as c:
        yield c


def login(c: TestClient) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    r = c.post("/login", data={"csrf": token.group(1), "username": "admin", "password": PASSWORD})
    assert r.status_code == 200


def test_search_needs_sign_in(client: TestClient) -> None:
    r = client.get("/search?q=sudo", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_hits_link_to_the_player_at_their_time(client: TestClient) -> None:
    login(client)
    html = client.get("/search", params={"q": "sudo su"}).text
    assert 'href="/search"' in html  # in the navigation
    assert re.search(r'id="search-count">2 sessions, 3 matching lines', html)
    assert html.index("alice@bastion-01") < html.index("mallory@bastion-01")  # newest first
    links = [unescape(m) for m in re.findall(r'<a class="hit" href="([^"]+)"', html)]
    assert links[:2] == [f"/play?id={SUDO}&t=0.5&tc=0.5", f"/play?id={SUDO}&t=1&tc=1"]
    assert "<mark>sudo su</mark>" in html
    typed = client.get("/search", params={"q": "sudo su", "in": "typed"}).text
    assert re.search(r'id="search-count">1 session, 1 matching line<', typed)
    late = client.get("/search", params={"q": "id", "in": "shown"}).text
    assert f"/play?id={SUDO}&amp;t=90&amp;tc=3.2" in late  # idle gaps cut to 2 s on the player's clock
    assert client.get(links[0]).status_code == 200


def test_the_text_of_a_recording_is_escaped(client: TestClient) -> None:
    login(client)
    html = client.get("/search", params={"q": "alert"}).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("q", ["/ --", '"', "NEAR(", "*"])
def test_text_without_words_is_explained(client: TestClient, q: str) -> None:
    login(client)
    r = client.get("/search", params={"q": q})
    assert r.status_code == 200
    if re.search(r"\w", q):
        assert "matching line" in r.text
    else:
        assert "Type a word to search for" in r.text


def test_nothing_found_and_odd_parameters(client: TestClient) -> None:
    login(client)
    html = client.get("/search", params={"q": "kubectl", "in": "nowhere", "page": "x"}).text
    assert "No session contains that." in html
    assert client.get("/search", params={"q": "sudo", "page": "999"}).status_code == 200
    assert "Searchable: 2 SSH recordings" in client.get("/search").text


def test_the_index_file_is_where_it_was_asked_for(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "rec")
    storage.put_bytes(SUDO, cast([0.5, "o", "$ sudo su\r\n"]))
    db = tmp_path / "data" / "viewer" / "search.sqlite3"
    settings = ViewerSettings.model_validate({"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "s" * 48})
    create_app(settings, storage, background_index=False, search_db=db)
    assert db.is_file()


def test_health_reports_the_search_index(client: TestClient) -> None:
    client.get("/search", params={"q": "sudo"})  # the index is built by then (see above)
    search = client.get("/health").json()["search"]
    assert search == {"state": "ok", "indexed": 2, "pending": 0}


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (Status(counts={"ok": 3}), "ok"),
        (Status(counts={"ok": 1}, pending=2), "building"),
        (Status(building=True), "building"),
        (Status(counts={"ok": 3}, error="the search index cannot be written: disk full"), "error"),
    ],
)
def test_health_names_the_search_state(status: Status, state: str) -> None:
    out = search_health(status)
    assert out["state"] == state and out["indexed"] == status.indexed and out["pending"] == status.pending
    assert out.get("error") == (status.error or None)
