"""The viewer app in-process (Starlette TestClient) over a real folder of recordings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.seed import seed
from lab.viewer.storage import LocalStorage

PASSWORD = "correct-horse-battery"


def settings(**extra: object) -> ViewerSettings:
    data = {"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "s" * 48, **extra}
    return ViewerSettings.model_validate(data)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    seed(LocalStorage(root), 12)
    (root / "broken~name.cast").write_text("this is not asciicast\n")
    (root / "rdp~20260101T101010.5~ops~win~win-01~han~x.asa-1.mkv").write_bytes(b"\x1a\x45" * 50)
    (root.parent / "secret.cast").write_text('{"version": 2, "width": 1, "height": 1}\n')
    return root


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)


def login(client: TestClient, password: str = PASSWORD) -> int:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"csrf": token, "username": "admin", "password": password},
        follow_redirects=False,
    )
    return r.status_code


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stand-ins for the npm player files (the browser tests use the real ones)."""
    root = tmp_path_factory.mktemp("player")
    (root / "asciinema-player.min.js").write_text("var AsciinemaPlayer = {};\n")
    (root / "asciinema-player.css").write_text(".ap-player {}\n")
    return root


@pytest.fixture()
def client(folder: Path, assets: Path) -> Iterator[TestClient]:
    app = create_app(settings(), LocalStorage(folder), background_index=False, assets=assets)
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def user(client: TestClient) -> TestClient:
    assert login(client) == 303
    return client


def first_cast(folder: Path) -> str:
    return sorted(p.name for p in folder.glob("ssh~*.cast"))[0]


@pytest.mark.parametrize(
    "path",
    ["/", "/sessions", "/graph", "/play?id=x.cast", "/media?id=x.cast", "/download?id=x.cast"],
)
def test_every_page_requires_a_session(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    expected = "/login" if path == "/" else f"/login?next={quote(path, safe='')}"
    assert r.status_code == 303 and r.headers["location"] == expected


def test_refresh_requires_a_session(client: TestClient) -> None:
    assert client.post("/refresh", data={"csrf": "x"}).status_code == 401


def test_health_is_open_and_reports_storage(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["recordings"] == 14


def test_health_503_with_reason_when_folder_missing(tmp_path: Path) -> None:
    app = create_app(settings(), LocalStorage(tmp_path / "gone"), background_index=False)
    with TestClient(app) as c:
        r = c.get("/health")
        assert r.status_code == 503 and "does not exist" in r.json()["reason"]
        assert login(c) == 303
        assert "Storage is unreachable" in c.get("/").text


def test_login_sets_safe_cookie(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"csrf": token, "username": "admin", "password": PASSWORD},
                    follow_redirects=False)  # fmt: skip
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_cookie_is_secure_behind_https(folder: Path) -> None:
    app = create_app(settings(VIEWER_BASE_URL="https://viewer.example"), LocalStorage(folder),
                     background_index=False)  # fmt: skip
    with TestClient(app, base_url="https://testserver") as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrf": token, "username": "admin", "password": PASSWORD},
                   follow_redirects=False)  # fmt: skip
        assert "secure" in r.headers["set-cookie"].lower()
        assert "strict-transport-security" in r.headers


def test_login_without_csrf_is_refused(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 400 and client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_gets_generic_message_then_rate_limited(folder: Path) -> None:
    app = create_app(settings(VIEWER_LOGIN_RATE=3), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        codes = []
        for user in ("admin", "nobody", "admin"):
            token = csrf_of(c.get("/login").text)
            r = c.post("/login", data={"csrf": token, "username": user, "password": "wrong"})
            codes.append(r.status_code)
            assert "Invalid username or password." in r.text
        assert codes == [401, 401, 401]
        assert login(c) == 429  # even the right password waits now
        r = c.post("/login", data={"csrf": "x", "username": "admin", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_security_headers(user: TestClient) -> None:
    r = user.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # no inline scripts anywhere


def test_every_form_carries_csrf(user: TestClient) -> None:
    for path in ("/", "/sessions", "/graph"):
        html = user.get(path).text
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
        assert forms and all('name="csrf"' in f for f in forms)


def test_dashboard_shows_totals_and_breakdowns(user: TestClient) -> None:
    html = user.get("/").text
    assert 'id="total-recordings">14<' in html
    assert "By team" in html and "galaxy-ops" in html and "Sessions per day" in html


def test_list_filters_and_paginates(user: TestClient) -> None:
    html = user.get("/sessions?team=galaxy-ops&per_page=25").text
    rows = re.findall(r'<a class="play" href="/play\?id=([^"]+)"', html)
    assert rows and all("galaxy-ops" in r for r in rows)
    html = user.get("/sessions?per_page=25&page=999999999999999999999").text
    assert "page 1 of 1" in html


def test_unknown_filter_value_and_bad_date_are_explained(user: TestClient) -> None:
    html = user.get("/sessions?team=%3Cscript%3E&from=yesterday&sort=evil").text
    assert "0 recordings" in html and "No recordings have team" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Ignored the from time" in html and "Unknown sort column" in html


def test_unparsed_names_are_listed(user: TestClient) -> None:
    assert "broken~name.cast" in user.get("/sessions?q=broken").text


def test_playback_page_embeds_player_and_metadata(user: TestClient, folder: Path) -> None:
    name = first_cast(folder)
    html = user.get(f"/play?id={quote(name)}").text
    assert 'id="player"' in html and f"/media?id={quote(name, safe='')}" in html
    assert "/player/asciinema-player.min.js" in html and "/static/player.js" in html
    assert name.split("~")[5] in html  # the user in the metadata panel


def test_player_assets_are_served(user: TestClient) -> None:
    r = user.get("/player/asciinema-player.min.js")
    assert r.status_code == 200 and "AsciinemaPlayer" in r.text


def test_media_supports_range_requests(user: TestClient, folder: Path) -> None:
    name = first_cast(folder)
    r = user.get(f"/media?id={quote(name)}", headers={"Range": "bytes=0-11"})
    assert r.status_code == 206 and r.content == b'{"version": '
    assert r.headers["content-range"].startswith("bytes 0-11/")


def test_download_is_an_attachment_with_original_bytes(user: TestClient, folder: Path) -> None:
    name = first_cast(folder)
    r = user.get(f"/download?id={quote(name)}")
    assert r.status_code == 200 and r.content == (folder / name).read_bytes()
    assert r.headers["content-disposition"].startswith("attachment")


def test_rdp_plays_in_video_element(user: TestClient) -> None:
    rid = "rdp~20260101T101010.5~ops~win~win-01~han~x.asa-1.mkv"
    html = user.get(f"/play?id={quote(rid)}").text
    assert "<video" in html and "asciinema-player.min.js" not in html


def test_invalid_cast_gets_clear_page(user: TestClient) -> None:
    r = user.get("/play?id=broken~name.cast")
    assert r.status_code == 422 and "not a valid asciicast" in r.text


@pytest.mark.parametrize(
    "rid",
    [
        "../secret.cast",
        "..%2Fsecret.cast",
        "%2e%2e%2fsecret.cast",
        "%252e%252e%252fsecret.cast",
        "/etc/passwd",
        str(Path("/tmp/secret.cast")),
        "....//secret.cast",
        "sub/../../secret.cast",
    ],
)
@pytest.mark.parametrize("route", ["/play", "/media", "/download"])
def test_traversal_ids_are_refused(user: TestClient, route: str, rid: str) -> None:
    r = user.get(f"{route}?id={rid}")
    assert r.status_code in (400, 404)
    assert b'"width": 1' not in r.content


def test_missing_recording_is_404(user: TestClient) -> None:
    assert user.get("/media?id=ssh~nope.cast").status_code == 404


def test_playback_is_rate_limited(folder: Path) -> None:
    app = create_app(settings(VIEWER_PLAYBACK_RATE=3), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        login(c)
        name = quote(first_cast(folder))
        codes = [c.get(f"/media?id={name}").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


def test_logout_needs_csrf_and_ends_session(user: TestClient) -> None:
    assert user.post("/logout", data={}).status_code == 400
    token = csrf_of(user.get("/").text)
    r = user.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert user.get("/", follow_redirects=False).status_code == 303


def test_refresh_picks_up_new_recordings(user: TestClient, folder: Path, tmp_path: Path) -> None:
    token = csrf_of(user.get("/sessions").text)
    assert user.post("/refresh", data={"csrf": "bad"}).status_code == 400
    r = user.post("/refresh", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303


def test_graph_shows_team_project_server(user: TestClient) -> None:
    html = user.get("/graph").text
    assert "<svg" in html and "galaxy-ops" in html and "bastion-01" in html


def test_errors_never_leak_tracebacks(user: TestClient) -> None:
    r = user.get("/nope")
    assert r.status_code == 404 and "Traceback" not in r.text
