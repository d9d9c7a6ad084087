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
from tests.unit.test_viewer_app import csrf_of, login, settings

V2 = b'{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "hello"]\n[1.5, "o", " world"]\n'
PASSWORD_OK = "correct-horse-battery"
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


# -- sign-out on the server, one cookie per viewer -----------------------------------------------


def test_logout_refuses_a_copied_cookie(folder: Path) -> None:
    app = create_app(settings(), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        assert login(c) == 303
        copied = dict(c.cookies)
        token = csrf_of(c.get("/").text)
        assert c.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
        with TestClient(app, cookies=copied) as thief:
            r = thief.get("/sessions", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
            assert thief.get(f"/media?id={quote(UNICODE_NAMES[0])}", follow_redirects=False).status_code == 303


def test_a_second_sign_in_does_not_revive_an_old_cookie(folder: Path) -> None:
    app = create_app(settings(), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        assert login(c) == 303
        first = dict(c.cookies)
        assert login(c) == 303  # signing in again starts a new session and ends the old one
        with TestClient(app, cookies=first) as old:
            assert old.get("/", follow_redirects=False).status_code == 303


def test_two_viewers_on_one_host_keep_their_own_cookies(folder: Path) -> None:
    a = create_app(settings(VIEWER_PORT=3000), LocalStorage(folder), background_index=False)
    b = create_app(settings(VIEWER_PORT=3001), LocalStorage(folder), background_index=False)
    with TestClient(a) as ca, TestClient(b) as cb:
        assert login(ca) == 303
        (name_a,) = [k for k in ca.cookies if not k.endswith("_device")]
        assert name_a.startswith("viewer_session_")
        cb.cookies.update(ca.cookies)  # the browser sends every cookie of the host to both
        assert cb.get("/", follow_redirects=False).status_code == 303  # A's sign-in is not B's
        assert login(cb) == 303
        sessions = [k for k in cb.cookies if not k.endswith("_device")]
        assert len(sessions) == 2 and name_a in sessions  # B set its own, A's is untouched
        ca.cookies.update(cb.cookies)
        token = csrf_of(cb.get("/").text)
        cb.post("/logout", data={"csrf": token})
        ca.cookies.update(cb.cookies)
        assert ca.get("/", follow_redirects=False).status_code == 200  # B's sign-out left A signed in


# -- after sign-in, the page asked for ------------------------------------------------------------


def sign_in_from(client: TestClient, asked: str, next_value: str | None = None) -> str:
    r = client.get(asked, follow_redirects=False)
    login_url = r.headers["location"]
    html = client.get(login_url).text
    form_next = re.search(r'name="next" value="([^"]*)"', html)
    assert form_next is not None
    import html as html_lib

    value = html_lib.unescape(form_next.group(1)) if next_value is None else next_value
    r = client.post(
        "/login",
        data={"csrf": csrf_of(html), "username": "admin", "password": "correct-horse-battery", "next": value},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return str(r.headers["location"])


def test_sign_in_lands_on_the_page_asked_for(client: TestClient) -> None:
    asked = "/sessions?team=" + quote("équipe") + "&sort=user&order=asc"
    assert sign_in_from(client, asked) == asked


@pytest.mark.parametrize(
    "evil",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/sessions\r\nSet-Cookie: x=1",
        "/login?next=/x",
        "/logout",
        "evil.example",
        "",
    ],
)
def test_sign_in_never_redirects_off_site(client: TestClient, evil: str) -> None:
    assert sign_in_from(client, "/sessions", next_value=evil) == "/"


# -- error pages use the layout and offer a way back --------------------------------------------


def assert_error_page(r: object, status: int, text: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    assert 'href="/static/viewer.css"' in html and "session viewer" in html  # the layout
    assert 'href="/sessions">Back to the sessions' in html and text in html


def test_not_found_page(user: TestClient) -> None:
    assert_error_page(user.get("/no/such/page"), 404, "There is no page at this address.")
    assert_error_page(user.get("/media?id=ssh~nope.cast"), 404, "There is no recording with this id")


@pytest.mark.parametrize("route", ["/play", "/media", "/download"])
def test_invalid_id_page(user: TestClient, route: str) -> None:
    assert_error_page(user.get(f"{route}?id=../x.cast"), 400, "This is not a valid recording id.")


def test_range_not_satisfiable_page(user: TestClient) -> None:
    rid = quote(UNICODE_NAMES[0], safe="")
    r = user.get(f"/media?id={rid}", headers={"Range": "bytes=999999-"})
    assert_error_page(r, 416, "outside the recording")
    assert r.headers["content-range"] == f"bytes */{len(V2)}" and "Back to the recording" in r.text
    assert user.get(f"/media?id={rid}", headers={"Range": "bytes=0-3"}).status_code == 206


def test_server_error_page(folder: Path) -> None:
    class Exploding(LocalStorage):
        boom = False  # set once the app has started (the search index reads the storage at start)

        def stat(self, key: str) -> object:  # type: ignore[override]
            if self.boom:
                raise RuntimeError("boom")
            return super().stat(key)

    storage = Exploding(folder)
    app = create_app(settings(), storage, background_index=False)
    storage.boom = True
    with TestClient(app, raise_server_exceptions=False) as c:
        login(c)
        r = c.get("/media?id=ssh~not-in-index.cast")
        assert r.status_code == 500 and "Something went wrong" in r.text and "boom" not in r.text
        assert 'href="/static/viewer.css"' in r.text and "Traceback" not in r.text


def test_empty_video_says_so(tmp_path: Path) -> None:
    (tmp_path / "rdp~20260101T000000~t~p~s~u~x.asa-1.mkv").write_bytes(b"")
    app = create_app(settings(), LocalStorage(tmp_path), background_index=False)
    with TestClient(app) as c:
        login(c)
        r = c.get("/play?id=rdp~20260101T000000~t~p~s~u~x.asa-1.mkv")
        assert r.status_code == 422 and "This video is empty (0 bytes)" in r.text and "<video" not in r.text


# -- small things on the list and the dashboard ----------------------------------------------------


def test_from_after_to_says_so(user: TestClient) -> None:
    html = user.get("/sessions?from=2026-02-01&to=2026-01-01").text
    assert "The from time 2026-02-01 00:00 UTC is after the to time 2026-01-01 23:59 UTC" in html
    assert 'value="2026-02-01T00:00"' in html and "2026-01-01 23:59 UTC</output>" in html


def test_list_page_takes_a_zone_and_any_page_size(user: TestClient) -> None:
    html = user.get("/sessions?from=2026-03-13T12:20&tz=Europe/Paris&per_page=13").text
    assert 'value="2026-03-13T12:20"' in html and "2026-03-13 11:20 UTC</output>" in html
    assert 'name="per_page" id="per-page" min="1" max="100" step="1" value="13"' in html
    html = user.get("/sessions?per_page=500").text
    assert "per_page must be a whole number from 1 to 100, not &#39;500&#39;." in html and 'value="50"' in html


def test_refresh_keeps_the_filters(user: TestClient) -> None:
    query = "team=" + quote("équipe") + "&sort=user&order=asc"
    html = user.get(f"/sessions?{query}").text
    back = re.search(r'name="back" value="([^"]*)"', html)
    assert back is not None
    import html as html_lib

    r = user.post("/refresh", data={"csrf": csrf_of(html), "back": html_lib.unescape(back.group(1))},
                  follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/sessions?{query}"
    r = user.post("/refresh", data={"csrf": csrf_of(html), "back": "x=1#//evil"}, follow_redirects=False)
    assert r.headers["location"].startswith("/sessions")


def test_per_day_chart_says_its_range(user: TestClient) -> None:
    html = user.get("/").text
    assert re.search(r"Sessions per day, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d</h2>", html)
    assert 'id="days-range"' in html and "(UTC) up to the latest recording" in html


def test_per_day_chart_says_when_older_days_are_cut(tmp_path: Path) -> None:
    for day in ("20250101", "20260101"):
        (tmp_path / f"ssh~{day}T000000~t~p~s~u~x.cast").write_bytes(V2)
    app = create_app(settings(), LocalStorage(tmp_path), background_index=False)
    with TestClient(app) as c:
        login(c)
        html = c.get("/").text
        assert "Sessions per day, 2025-11-03 to 2026-01-01" in html and "older days are not shown" in html


# -- RDP exports in parts are one session ---------------------------------------------------------

STEM = "rdp~20260105T101010.5~ops~win~win-01~han~c0ffee"


def test_rdp_parts_are_one_session_in_order(tmp_path: Path) -> None:
    for n in (2, 10, 1):
        (tmp_path / f"{STEM}.asa-{n}.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes([n]) * 10)
    (tmp_path / "rdp~20260105T111111.5~ops~win~win-02~leia~beef.asa-1.mkv").write_bytes(b"\x1a\x45\xdf\xa3")
    app = create_app(settings(), LocalStorage(tmp_path), background_index=False)
    with TestClient(app) as c:
        login(c)
        ids = listed_ids(c.get("/sessions").text)
        assert sorted(ids) == [f"{STEM}.asa-1.mkv", "rdp~20260105T111111.5~ops~win~win-02~leia~beef.asa-1.mkv"]
        assert 'id="total-recordings">2<' in c.get("/").text
        for asked in (1, 2, 10):  # any part opens the session
            html = c.get(f"/play?id={quote(f'{STEM}.asa-{asked}.mkv', safe='')}").text
            assert "3 parts, played in order" in html
            names = re.findall(r'data-part="\d+">([^<]+)</a>', html)
            assert names == [f"{STEM}.asa-{n}.mkv" for n in (1, 2, 10)]
        for n in (1, 2, 10):
            r = c.get(f"/download?id={quote(f'{STEM}.asa-{n}.mkv', safe='')}")
            assert r.content.endswith(bytes([n]) * 10)


# -- presigned links outlive the video ----------------------------------------------------------


def ebml(eid: bytes, payload: bytes) -> bytes:
    return eid + b"\x01" + len(payload).to_bytes(7, "big") + payload


def mkv(seconds: float, scale: int = 1_000_000) -> bytes:
    """The start of a Matroska file whose Segment/Info says it lasts `seconds`."""
    import struct

    info = ebml(b"\x2a\xd7\xb1", scale.to_bytes(3, "big")) + ebml(b"\x44\x89", struct.pack(">d", seconds * 1e9 / scale))
    seek_head = ebml(b"\x11\x4d\x9b\x74", b"\x00" * 40)
    segment = b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + seek_head + ebml(b"\x15\x49\xa9\x66", info)
    return ebml(b"\x1a\x45\xdf\xa3", ebml(b"\x42\x82", b"matroska")) + segment + b"\x1f\x43\xb6\x75" + b"\x00" * 64


def test_video_length_is_read_from_the_header() -> None:
    from lab.viewer.media import video_seconds

    assert video_seconds(mkv(7200.0)) == pytest.approx(7200.0)
    assert video_seconds(mkv(90.5, scale=1000)) == pytest.approx(90.5)
    assert video_seconds(b"\x1a\x45\xdf\xa3" + b"garbage") is None
    assert video_seconds(b"") is None and video_seconds(V2) is None


def test_link_lifetime_covers_the_video() -> None:
    from lab.viewer.media import MAX_LINK_SECONDS, link_lifetime

    assert link_lifetime(300, 7200.0) >= 2 * 7200  # a 2-hour RDP video, paused or at half speed
    assert link_lifetime(300, 10.0) == 320 and link_lifetime(300, None) == 12 * 3600
    assert link_lifetime(300, 30 * 24 * 3600.0) == MAX_LINK_SECONDS


# -- sign-in rate limits per real client ----------------------------------------------------------

GATEWAY = ("172.17.0.1", 40000)  # what the viewer sees for every client docker-proxy forwards


def attempt(c: TestClient, password: str, xff: str | None = None) -> int:
    token = csrf_of(c.get("/login").text)
    headers = {"X-Forwarded-For": xff} if xff else {}
    data = {"csrf": token, "username": "admin", "password": password}
    return c.post("/login", data=data, headers=headers, follow_redirects=False).status_code


def test_forwarded_for_is_ignored_from_untrusted_peers(folder: Path) -> None:
    app = create_app(settings(VIEWER_LOGIN_RATE=2), LocalStorage(folder), background_index=False)
    with TestClient(app, client=GATEWAY) as attacker, TestClient(app, client=GATEWAY) as other:
        assert [attempt(attacker, "wrong", xff=f"198.51.100.{i}") for i in range(3)] == [401, 401, 429]
        assert attempt(other, PASSWORD_OK, xff="198.51.100.77") == 429  # a forged header buys nothing


def test_trusted_proxy_gives_each_client_its_own_budget(folder: Path) -> None:
    app = create_app(settings(VIEWER_LOGIN_RATE=2, VIEWER_TRUSTED_PROXIES="172.16.0.0/12"),
                     LocalStorage(folder), background_index=False)  # fmt: skip
    with TestClient(app, client=GATEWAY) as attacker, TestClient(app, client=GATEWAY) as other:
        # the proxy appends the real peer; whatever the attacker wrote before it is not believed
        codes = [attempt(attacker, "wrong", xff="203.0.113.10, 203.0.113.9") for _ in range(3)]
        assert codes == [401, 401, 429]
        assert attempt(other, PASSWORD_OK, xff="203.0.113.10") == 303


def test_one_client_cannot_lock_out_a_browser_that_signed_in_before(folder: Path) -> None:
    """Behind docker-proxy every client has one address; device cookies keep regulars in."""
    app = create_app(settings(VIEWER_LOGIN_RATE=2), LocalStorage(folder), background_index=False)
    with TestClient(app, client=GATEWAY) as regular, TestClient(app, client=GATEWAY) as attacker:
        assert attempt(regular, PASSWORD_OK) == 303  # earlier: gets its device cookie
        device = next(k for k in regular.cookies if k.endswith("_device"))
        regular.post("/logout", data={"csrf": csrf_of(regular.get("/").text)})
        assert [attempt(attacker, "wrong") for _ in range(3)] == [401, 401, 429]
        assert attempt(regular, PASSWORD_OK) == 303  # not locked out by the attacker
        attacker.cookies.set(device, "admin.forged-signature")
        assert attempt(attacker, PASSWORD_OK) == 429  # a forged device cookie is the address again
        stolen = regular.cookies[device]
        assert [attempt(regular, "wrong") for _ in range(3)] == [401, 401, 429]  # its own budget is limited
        attacker.cookies.set(device, stolen)
        assert attempt(attacker, PASSWORD_OK) == 429  # the device budget is shared by its copies


# -- the graph at 10,000 recordings ------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_graph() -> Iterator[TestClient]:
    from benchmarks.viewer_index import SyntheticStorage

    app = create_app(settings(), SyntheticStorage(10_000), background_index=False)  # type: ignore[arg-type]
    with TestClient(app) as c:
        assert login(c) == 303
        yield c


def test_graph_at_10000_recordings_collapses_servers(big_graph: TestClient) -> None:
    import time

    started = time.perf_counter()
    r = big_graph.get("/graph")
    elapsed = time.perf_counter() - started
    assert r.status_code == 200 and 'id="graph-mode"' in r.text and "Open a team" in r.text
    assert len(r.content) < 400_000, f"{len(r.content)} bytes"  # was 2.7 MB
    assert elapsed < 2.0  # the benchmark holds the 200 ms target; this bound survives a loaded CI
    assert r.text.count('class="node c570') == 0  # no server boxes in the overview
    assert r.text.count('class="team" href="/graph?team=') == 8


def test_graph_team_pages_cover_every_server_once(big_graph: TestClient) -> None:
    from lab.viewer.pages import GRAPH_ROWS

    first = big_graph.get("/graph?team=team-3").text
    pages = int(re.search(r"projects page 1 of (\d+)", first).group(1))  # type: ignore[union-attr]
    assert pages > 1
    servers = 0
    for page in range(1, pages + 1):
        html = big_graph.get(f"/graph?team=team-3&page={page}").text
        boxes = html.count('class="node c570')
        assert 0 < boxes <= GRAPH_ROWS
        servers += boxes
    app_tree = big_graph.app.state.viewer.index.snapshot.tree  # type: ignore[attr-defined]
    assert servers == sum(len(s) for s in app_tree["team-3"].values())
    assert "There is no team" in big_graph.get("/graph?team=nope").text


def test_device_cookie_values_are_plain_cookie_text(folder: Path) -> None:
    """Stricter cookie parsers (Python's http.cookies in Debian's 3.11) refuse control characters."""
    from http.cookies import SimpleCookie

    app = create_app(settings(), LocalStorage(folder), background_index=False)
    value = app.state.viewer.devices.issue("admin")
    assert re.fullmatch(r"[A-Za-z0-9_.\-]+", value)
    cookie: SimpleCookie = SimpleCookie()
    cookie["d"] = value
    assert app.state.viewer.devices.device(value, "admin") and not app.state.viewer.devices.device(value, "eve")
