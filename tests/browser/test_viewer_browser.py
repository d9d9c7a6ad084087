"""The viewer in Debian's Chromium, headless, driven by Playwright (never `playwright install`).

A real uvicorn server on 127.0.0.1 serves seeded recordings; the tests log in, filter the list,
play an SSH recording and watch the player advance, open the dashboard, and leave screenshots in
tests/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from lab import RESOURCES
from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.assets import fetch_player
from lab.viewer.seed import seed
from lab.viewer.storage import LocalStorage

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = RESOURCES / "tests" / "artifacts"
PASSWORD = "browser-test-password"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI is set (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    root = tmp_path_factory.mktemp("recordings")
    seed(LocalStorage(root), 30)
    settings = ViewerSettings.model_validate({"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "b" * 48})
    app = create_app(settings, LocalStorage(root), assets=fetch_player())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health").json()["recordings"] == 30:
                break
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    yield base
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        pg = context.new_page()
        pg.problems = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: m.type == "error" and pg.problems.append(m.text))  # type: ignore[attr-defined]
        pg.on("pageerror", lambda e: pg.problems.append(str(e)))  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_login(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    assert pg.url.endswith("/login")  # type: ignore[attr-defined]
    pg.fill("input[name=username]", "admin")  # type: ignore[attr-defined]
    pg.fill("input[name=password]", "wrong-password")  # type: ignore[attr-defined]
    pg.click("button[type=submit]")  # type: ignore[attr-defined]
    assert "Invalid username or password." in pg.content()  # type: ignore[attr-defined]
    pg.fill("input[name=username]", "admin")  # type: ignore[attr-defined]
    pg.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    pg.click("button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url(f"{server}/")  # type: ignore[attr-defined]
    assert pg.is_visible("text=Sign out")  # type: ignore[attr-defined]


def test_dashboard(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/")  # type: ignore[attr-defined]
    assert pg.inner_text("#total-recordings") == "30"  # type: ignore[attr-defined]
    assert pg.locator("svg.days rect").count() > 3  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-dashboard.png"), full_page=True)  # type: ignore[attr-defined]


def test_filter_the_list(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    total = pg.inner_text("#result-count")  # type: ignore[attr-defined]
    assert total.startswith("30 ")
    pg.select_option("select[name=team]", "rebel-dev")  # type: ignore[attr-defined]
    pg.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url("**team=rebel-dev**")  # type: ignore[attr-defined]
    rows = pg.locator("table.sessions tbody tr")  # type: ignore[attr-defined]
    assert 0 < rows.count() < 30
    for i in range(rows.count()):
        assert "rebel-dev" in rows.nth(i).inner_text()
    pg.screenshot(path=str(ARTIFACTS / "viewer-list.png"), full_page=True)  # type: ignore[attr-defined]


def player_time(pg: object, above: float, timeout: float = 20) -> float:
    """Poll the player clock from Python (Playwright's wait_for_function needs eval, which the
    page's CSP rightly forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        now = pg.evaluate("window.labPlayer ? window.labPlayer.getCurrentTime() : -1")  # type: ignore[attr-defined]
        if isinstance(now, int | float) and now > above or time.monotonic() > deadline:
            return float(now)
        time.sleep(0.2)


def test_ssh_playback_advances(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.click("table.sessions tbody tr:first-child a.play")  # type: ignore[attr-defined]
    pg.wait_for_selector(".ap-wrapper, .ap-player", timeout=15000)  # type: ignore[attr-defined]
    first = player_time(pg, above=1.0)
    pg.wait_for_timeout(1000)  # type: ignore[attr-defined]
    later = pg.evaluate("window.labPlayer.getCurrentTime()")  # type: ignore[attr-defined]
    assert later > first
    player_time(pg, above=4.0)  # let a command and its output appear for the screenshot
    text = pg.inner_text(".ap-term")  # type: ignore[attr-defined]
    assert "Last login" in text
    pg.screenshot(path=str(ARTIFACTS / "viewer-playback.png"), full_page=True)  # type: ignore[attr-defined]
    assert pg.problems == []  # no CSP violations or script errors  # type: ignore[attr-defined]


def test_graph(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/graph")  # type: ignore[attr-defined]
    assert pg.locator("svg.graph rect").count() >= 3 + 6 + 14  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-graph.png"), full_page=True)  # type: ignore[attr-defined]
