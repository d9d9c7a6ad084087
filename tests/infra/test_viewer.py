"""Checks for the viewer service, on Docker and on a native host: health, sign-in required,
the seeded recordings listed, a playback page that loads its cast, full-text search inside the
sessions (SQLite FTS5 index in its own folder), and a non-root process."""

from __future__ import annotations

import re

import httpx
import pytest


@pytest.fixture(scope="module")
def base(lab):
    return f"http://{lab.addr}:{lab.port('VIEWER_PORT')}"


@pytest.fixture(scope="module")
def session(lab, base):
    """A signed-in client (local auth), waiting within a budget for the viewer to come up."""
    if lab.cfg.viewer.auth != "local":
        pytest.skip("VIEWER_AUTH=oidc: signing in needs the Okta org")
    client = httpx.Client(base_url=base, timeout=10)
    lab.wait(lambda: client.get("/health").status_code == 200, timeout=90)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token, "the login form has no CSRF token"
    form = {
        "csrf": token.group(1),
        "username": lab.cfg.viewer.admin_user,
        "password": lab.cfg.viewer.admin_password,
    }
    r = client.post("/login", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/", r.text[:300]
    yield client
    client.close()


def test_health_answers_200(lab, base):
    r = lab.wait(lambda: httpx.get(f"{base}/health", timeout=5), timeout=90)
    assert r.status_code == 200, f"{r.text}\n{lab.logs('viewer')}"
    assert r.json()["status"] == "ok"


def test_pages_require_sign_in(lab, base):
    for path in ("/", "/sessions", "/graph"):
        r = httpx.get(f"{base}{path}", timeout=10)
        expected = "/login" if path == "/" else f"/login?next=%2F{path[1:]}"
        assert r.status_code == 303 and r.headers["location"] == expected, path


def test_sign_out_ends_the_session_on_the_server(lab, base, session):
    """A copy of a signed-in cookie stops working once its session signs out."""
    other = httpx.Client(base_url=base, timeout=10)
    try:
        token = re.search(r'name="csrf" value="([^"]+)"', other.get("/login").text).group(1)
        form = {"csrf": token, "username": lab.cfg.viewer.admin_user, "password": lab.cfg.viewer.admin_password}
        assert other.post("/login", data=form).status_code == 303
        copied = dict(other.cookies)
        token = re.search(r'name="csrf" value="([^"]+)"', other.get("/").text).group(1)
        assert other.post("/logout", data={"csrf": token}).status_code == 303
        r = httpx.get(f"{base}/sessions", cookies=copied, timeout=10)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert session.get("/sessions").status_code == 200  # other sessions carry on
    finally:
        other.close()


def test_list_shows_seeded_recordings(lab, session):
    html = lab.wait(lambda: (t := session.get("/sessions").text) and 'a class="play"' in t and t, timeout=60)
    count = int(re.search(r'id="result-count">(\d+)', html).group(1))
    assert count >= min(lab.cfg.viewer.seed_count, 1)
    assert re.search(r"galaxy-ops|galaxy-sec|rebel-dev", html), "no seeded sample sessions listed"


def test_playback_page_loads_the_cast(session):
    html = session.get("/sessions?protocol=ssh").text
    rid = re.search(r'<a class="play" href="/play\?id=([^"]+)"', html).group(1)
    page = session.get(f"/play?id={rid}")
    assert page.status_code == 200 and 'id="player"' in page.text
    src = re.search(r'data-src="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    cast = session.get(src) if src.startswith("/") else httpx.get(src, timeout=10)
    assert cast.status_code == 200
    header = cast.text.splitlines()[0]
    assert '"version": 2' in header and '"width"' in header
    assert session.get("/player/asciinema-player.min.js").status_code == 200


def test_search_requires_sign_in(base):
    r = httpx.get(f"{base}/search?q=sudo", timeout=10)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dsudo"


def test_search_finds_text_inside_seeded_sessions(lab, session):
    """Every seeded session shows "Last login: ..."; the hit links to the player at its time."""
    if not lab.cfg.viewer.seed_count:
        pytest.skip("VIEWER_SEED_COUNT=0: no sample sessions to search")

    def found():
        html = session.get("/search", params={"q": "last login", "in": "shown"}).text
        return 'class="hit"' in html and html

    html = lab.wait(found, timeout=90)
    assert re.search(r'id="search-count">[1-9]\d* session', html), html[:500]
    link = re.search(r'<a class="hit" href="(/play\?id=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "&t=" in link and "&tc=" in link
    assert session.get(link).status_code == 200


def test_search_index_is_kept_in_its_own_folder(lab):
    host = lab.host("viewer")
    path = "/data/search/search.sqlite3" if lab.target == "docker" else "/var/lib/okta-lab-viewer/search/search.sqlite3"
    index = host.file(path)
    assert index.exists, f"no search index at {path}\n{lab.logs('viewer')}"
    assert index.user == "viewer"


def test_viewer_runs_as_its_own_user(lab):
    host = lab.host("viewer")
    procs = [p for p in host.process.filter(user="viewer") if "lab" in p.args and "serve" in p.args]
    assert procs, lab.logs("viewer")
    assert host.user("viewer").uid != 0


def test_viewer_listens(lab):
    host = lab.host("viewer")
    if lab.target == "docker":
        address, port = "0.0.0.0", 3000
    else:
        address, port = lab.cfg.core.bind, lab.service_port("VIEWER_PORT")
    assert host.socket(f"tcp://{address}:{port}").is_listening
