"""The viewer in Debian's Chromium, headless, driven by Playwright (never `playwright install`).

A real uvicorn server on 127.0.0.1 serves seeded recordings (30 SSH ones and one RDP video encoded
here with PyAV, as `sft session-logs export` writes them: VP8 in Matroska); the tests log in,
filter the list, play the SSH recording and the RDP video and watch both advance, open the
dashboard, search inside the sessions and open the player at a hit, use the time-range presets in
another time zone, switch the theme, resize columns, and leave screenshots in tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from lab import RESOURCES
from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.assets import fetch_player
from lab.viewer.seed import seed
from lab.viewer.storage import LocalStorage, StoredObject
from tests.unit.test_viewer_edges import CASTS, V2

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = RESOURCES / "tests" / "artifacts"
PASSWORD = "browser-test-password"
RDP_ID = "rdp~20261127T093000.0000~empire~death-star~ds-rdp-01~darth.vader~c0ffee.asa-0.mkv"
UNICODE_ID = "ssh~20261128T101500.0000~équipe~projet#2~serveur-01~zoë.o'brien~🚀.cast"
EXTRA_CASTS = {**CASTS, UNICODE_ID: V2}
PARTS_STEM = "rdp~20261129T080000.0000~empire~death-star~ds-rdp-02~tarkin~5eed"
BROKEN_ID = "rdp~20261129T090000.0000~empire~death-star~ds-rdp-02~tarkin~bad.mkv"
RECORDINGS = 31 + len(EXTRA_CASTS) + 2  # the two parts count as one session, plus the broken video
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
    write_rdp_video(root / RDP_ID)
    for name, data in EXTRA_CASTS.items():
        (root / name).write_bytes(data)
    for n in (1, 2):
        write_rdp_video(root / f"{PARTS_STEM}.asa-{n}.mkv", seconds=2)
    (root / BROKEN_ID).write_bytes(b"\x1a\x45\xdf\xa3" + b"not really a video" * 100)
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
            if httpx.get(f"{base}/health").json()["recordings"] == RECORDINGS:
                break
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    yield base
    srv.should_exit = True
    thread.join(10)


def write_rdp_video(path: Path, seconds: int = 4, fps: int = 10) -> None:
    """A small VP8 Matroska video whose brightness rises over `seconds` (an RDP recording stand-in)."""
    try:
        import av
    except ImportError:  # a declared test dependency (`make test` installs it): a broken setup, not optional
        pytest.fail("PyAV is missing: run `make test`, or pip install -e '.[test]'")
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        frames = seconds * fps
        for i in range(frames):
            frame = av.VideoFrame(320, 180, "yuv420p")
            frame.planes[0].update(bytes([16 + 200 * i // frames]) * frame.planes[0].buffer_size)
            for chroma in frame.planes[1:]:
                chroma.update(bytes([128]) * chroma.buffer_size)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


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
    assert pg.url.endswith("/login?next=%2Fsessions")  # type: ignore[attr-defined]
    pg.fill("input[name=username]", "admin")  # type: ignore[attr-defined]
    pg.fill("input[name=password]", "wrong-password")  # type: ignore[attr-defined]
    pg.click("button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_selector("text=Invalid username or password.")  # type: ignore[attr-defined]  (not content(): mid-navigation under load)
    pg.fill("input[name=username]", "admin")  # type: ignore[attr-defined]
    pg.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    pg.click("button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url(f"{server}/sessions")  # type: ignore[attr-defined]  (the page asked for)
    assert pg.is_visible("text=Sign out")  # type: ignore[attr-defined]


def test_dashboard(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/")  # type: ignore[attr-defined]
    assert pg.inner_text("#total-recordings") == str(RECORDINGS)  # type: ignore[attr-defined]
    assert pg.locator("svg.days rect").count() > 3  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-dashboard.png"), full_page=True)  # type: ignore[attr-defined]


def test_filter_the_list(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    total = pg.inner_text("#result-count")  # type: ignore[attr-defined]
    assert total.startswith(f"{RECORDINGS} ")
    pg.select_option("select[name=team]", "rebel-dev")  # type: ignore[attr-defined]
    pg.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url("**team=rebel-dev**")  # type: ignore[attr-defined]
    rows = pg.locator("table.sessions tbody tr")  # type: ignore[attr-defined]
    assert 0 < rows.count() < RECORDINGS
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


def test_rdp_video_plays(server: str, page: object) -> None:
    """The RDP recording plays in the page's <video>: decoded frames, a clock that advances."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.goto(f"{server}/play?id={quote(RDP_ID, safe='')}")  # type: ignore[attr-defined]
    video = pg.locator("video#video")  # type: ignore[attr-defined]
    video.evaluate("v => { v.muted = true; return v.play(); }")
    probe = "v => [v.currentTime, v.videoWidth, v.videoHeight, v.readyState, v.error && v.error.code]"
    deadline = time.monotonic() + 20
    state = video.evaluate(probe)
    while state[0] < 1.5 and time.monotonic() < deadline:
        time.sleep(0.2)
        state = video.evaluate(probe)
    current, width, height, ready, error = state
    assert error is None, f"media error {error}"
    assert (width, height) == (320, 180) and ready >= 2
    assert current >= 1.5, f"the video clock stopped at {current}"
    pg.screenshot(path=str(ARTIFACTS / "viewer-rdp.png"), full_page=True)  # type: ignore[attr-defined]
    assert pg.problems == []  # no CSP violations or script errors  # type: ignore[attr-defined]


def test_rdp_parts_play_in_order(server: str, page: object) -> None:
    """A session exported in two parts plays part 1, then part 2, in one <video>."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.goto(f"{server}/play?id={quote(PARTS_STEM + '.asa-2.mkv', safe='')}")  # type: ignore[attr-defined]
    assert pg.locator("ol.parts li").count() == 2  # type: ignore[attr-defined]
    video = pg.locator("video#video")  # type: ignore[attr-defined]
    video.evaluate("v => { v.muted = true; return v.play(); }")
    deadline = time.monotonic() + 20
    state = video.evaluate("v => [v.currentSrc, v.currentTime]")
    while not (".asa-2.mkv" in state[0] and state[1] > 0.3) and time.monotonic() < deadline:
        time.sleep(0.2)
        state = video.evaluate("v => [v.currentSrc, v.currentTime]")
    assert ".asa-2.mkv" in state[0] and state[1] > 0.3, f"part 2 did not follow part 1: {state}"
    assert "asa-2" in pg.inner_text("ol.parts li.current")  # type: ignore[attr-defined]
    assert pg.problems == []  # type: ignore[attr-defined]


def test_unplayable_video_says_so(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/play?id={quote(BROKEN_ID, safe='')}")  # type: ignore[attr-defined]
    pg.wait_for_selector("video#video[data-failed]", state="attached", timeout=15000)  # type: ignore[attr-defined]
    assert "cannot be played in the browser" in pg.inner_text("#player-status")  # type: ignore[attr-defined]


def test_graph(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/graph")  # type: ignore[attr-defined]
    assert pg.locator("svg.graph rect").count() >= 3 + 6 + 14  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-graph-static.png"), full_page=True)  # type: ignore[attr-defined]


def play_cast(pg: object, server: str, rid: str, above: float = 0.5) -> float:
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.goto(f"{server}/play?id={quote(rid, safe='')}")  # type: ignore[attr-defined]
    pg.wait_for_selector(".ap-wrapper, .ap-player", timeout=15000)  # type: ignore[attr-defined]
    return player_time(pg, above=above)


@pytest.mark.parametrize("name", sorted(CASTS))
def test_v1_and_bom_casts_play(server: str, page: object, name: str) -> None:
    """asciicast v1 (one line, pretty, over 64 KiB, size after stdout) and v2 with a BOM play."""
    pg = page  # type: ignore[assignment]
    now = play_cast(pg, server, name)
    assert now > 0.5, f"{name}: the player clock stayed at {now}"
    assert pg.get_attribute("#player", "data-failed") is None  # type: ignore[attr-defined]
    wanted = "line " if name.startswith("v1") else "hello"
    # The clock may pass 0.5 s a frame before the terminal draws what was printed then; on a
    # timeout the assertion below shows what the terminal holds.
    with contextlib.suppress(playwright_api.TimeoutError):
        drawn = "w => (document.querySelector('.ap-term') || {innerText: ''}).innerText.includes(w)"
        pg.wait_for_function(drawn, arg=wanted, timeout=10000)  # type: ignore[attr-defined]
    text = pg.inner_text(".ap-term")  # type: ignore[attr-defined]
    assert wanted in text, text[:200]
    if name == "v1-small.cast":
        pg.screenshot(path=str(ARTIFACTS / "viewer-cast-v1.png"), full_page=True)  # type: ignore[attr-defined]
    assert pg.problems == []  # type: ignore[attr-defined]


def test_unicode_named_recording_plays(server: str, page: object) -> None:
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/sessions?q=" + quote("zoë"))  # type: ignore[attr-defined]
    pg.click("table.sessions tbody tr:first-child a.play")  # type: ignore[attr-defined]
    pg.wait_for_selector(".ap-wrapper, .ap-player", timeout=15000)  # type: ignore[attr-defined]
    assert player_time(pg, above=0.5) > 0.5
    assert "zoë.o'brien" in pg.inner_text("aside.meta")  # type: ignore[attr-defined]
    with pg.expect_download() as info:  # type: ignore[attr-defined]
        pg.click("#download")  # type: ignore[attr-defined]
    download = info.value
    assert download.suggested_filename == UNICODE_ID
    assert Path(download.path()).read_bytes() == V2


def test_speed_change(server: str, page: object) -> None:
    """`>` and the speed menu re-create the player at the same moment; 4x runs about 4x."""
    pg = page  # type: ignore[assignment]
    before = play_cast(pg, server, "v1-large.cast", above=1.0)
    assert pg.inner_text("#real-duration") == "1:06:40"  # type: ignore[attr-defined]
    pg.keyboard.press(">")  # type: ignore[attr-defined]
    assert pg.get_attribute("#player", "data-speed") == "1.5"  # type: ignore[attr-defined]
    assert player_time(pg, above=before) >= before  # continued from where it was
    pg.select_option("#speed", "8")  # type: ignore[attr-defined]
    assert pg.get_attribute("#player", "data-speed") == "8"  # type: ignore[attr-defined]
    start = player_time(pg, above=before)
    t0 = time.monotonic()
    time.sleep(2.0)
    rate = (pg.evaluate("window.labPlayer.getCurrentTime()") - start) / (time.monotonic() - t0)  # type: ignore[attr-defined]
    assert 4.0 < rate < 10.0, f"at 8x the clock ran {rate:.1f}x"
    pg.keyboard.press("<")  # type: ignore[attr-defined]
    assert pg.get_attribute("#player", "data-speed") == "4"  # type: ignore[attr-defined]
    pg.select_option("#idle", "2")  # type: ignore[attr-defined]
    assert pg.get_attribute("#player", "data-idle") == "2"  # type: ignore[attr-defined]
    assert "idle gaps cut to 2 s" in pg.inner_text("#player-status")  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-player-speed.png"), full_page=True)  # type: ignore[attr-defined]
    assert pg.problems == []  # type: ignore[attr-defined]


def test_search_opens_the_player_at_the_hit(server: str, page: object) -> None:
    """Full-text search: hits listed per session; a click plays the session from the hit."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30  # the search index fills in the background after the start
    while True:
        pg.goto(f"{server}/search")  # type: ignore[attr-defined]
        pg.fill("input[name=q]", "journalctl")  # type: ignore[attr-defined]
        pg.click("form.search button[type=submit]")  # type: ignore[attr-defined]
        pg.wait_for_url("**/search?q=journalctl**")  # type: ignore[attr-defined]
        if pg.locator("a.hit").count() or time.monotonic() > deadline:  # type: ignore[attr-defined]
            break
        time.sleep(0.5)
    hits = pg.locator("a.hit")  # type: ignore[attr-defined]
    assert hits.count() > 0, pg.inner_text("main")  # type: ignore[attr-defined]
    assert "journalctl" in pg.inner_text("li.session-hits:first-child mark")  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-search.png"), full_page=True)  # type: ignore[attr-defined]
    at = float(hits.first.get_attribute("data-t"))
    assert at > 1.0
    hits.first.click()
    pg.wait_for_url("**/play?id=**&tc=**")  # type: ignore[attr-defined]
    pg.wait_for_selector(".ap-wrapper, .ap-player", timeout=15000)  # type: ignore[attr-defined]
    now = player_time(pg, above=at - 0.01)
    assert at - 0.01 <= now < at + 5, f"the player started at {now}, the hit is at {at}"
    deadline = time.monotonic() + 10
    while "journalctl" not in pg.inner_text(".ap-term") and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.2)
    assert "journalctl" in pg.inner_text(".ap-term")  # type: ignore[attr-defined]
    assert pg.locator(".ap-marker-container").count() == 1  # the hit, on the progress bar  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-search-hit.png"), full_page=True)  # type: ignore[attr-defined]
    assert pg.problems == []  # no CSP violations or script errors  # type: ignore[attr-defined]


def node_point(pg: object, node_id: str) -> tuple[float, float]:
    """Where a cytoscape node is drawn on the page (its canvas has no DOM node to click)."""
    box = pg.locator("#cy").bounding_box()  # type: ignore[attr-defined]
    at = pg.evaluate(
        f"(() => {{ const p = labGraph.getElementById('{node_id}').renderedPosition(); return [p.x, p.y]; }})()"
    )  # type: ignore[attr-defined]
    return box["x"] + at[0], box["y"] + at[1]


def test_interactive_graph(server: str, page: object) -> None:
    """Cytoscape under the CSP: collapse/expand, a pop-up with counts and a list link, search, zoom."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.goto(f"{server}/graph")  # type: ignore[attr-defined]
    pg.click("#explore")  # type: ignore[attr-defined]
    pg.wait_for_selector("#cy[data-ready]", state="attached", timeout=15000)  # type: ignore[attr-defined]
    everything = int(pg.get_attribute("#cy", "data-nodes"))  # type: ignore[attr-defined]
    assert everything >= 5 + 8 + 17  # small: drawn expanded (teams, projects, servers)
    pg.screenshot(path=str(ARTIFACTS / "viewer-graph.png"), full_page=True)  # type: ignore[attr-defined]
    team = pg.evaluate("labGraph.nodes('.team').filter(n => n.data('text').startsWith('rebel-dev')).id()")  # type: ignore[attr-defined]
    pg.mouse.click(*node_point(pg, team))  # type: ignore[attr-defined]
    collapsed = int(pg.get_attribute("#cy", "data-nodes"))  # type: ignore[attr-defined]
    assert collapsed < everything  # its projects and servers folded away
    assert pg.inner_text("#graph-pop h3") == "rebel-dev"  # type: ignore[attr-defined]
    assert "12 sessions" in pg.inner_text("#graph-pop")  # type: ignore[attr-defined]
    assert pg.get_attribute("#graph-pop a.list-link", "href") == "/sessions?team=rebel-dev"  # type: ignore[attr-defined]
    pg.mouse.click(*node_point(pg, team))  # type: ignore[attr-defined]
    assert int(pg.get_attribute("#cy", "data-nodes")) == everything  # expanded again  # type: ignore[attr-defined]
    pg.click("#collapse-all")  # type: ignore[attr-defined]
    assert int(pg.get_attribute("#cy", "data-nodes")) == 5 + 8  # type: ignore[attr-defined]
    pg.fill("#graph-query", "ldap-01")  # type: ignore[attr-defined]
    pg.click("#graph-search button[type=submit]")  # type: ignore[attr-defined]
    assert "match 1 of 1: server ldap-01" in pg.inner_text("#graph-status")  # type: ignore[attr-defined]
    assert pg.evaluate("labGraph.$(':selected').data('text')").startswith("ldap-01 (3)")  # type: ignore[attr-defined]
    zoom = pg.evaluate("labGraph.zoom()")  # type: ignore[attr-defined]
    box = pg.locator("#cy").bounding_box()  # type: ignore[attr-defined]
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    pg.mouse.wheel(0, -400)  # type: ignore[attr-defined]
    pg.wait_for_timeout(300)  # type: ignore[attr-defined]
    assert pg.evaluate("labGraph.zoom()") > zoom  # type: ignore[attr-defined]
    pg.fill("#graph-query", "ldap-01")  # type: ignore[attr-defined]
    pg.click("#graph-search button[type=submit]")  # type: ignore[attr-defined]
    link = pg.get_attribute("#graph-pop a.list-link", "href")  # type: ignore[attr-defined]
    pg.click("#graph-pop a.list-link")  # type: ignore[attr-defined]
    pg.wait_for_url("**/sessions?team=**")  # type: ignore[attr-defined]
    assert pg.inner_text("#result-count").startswith("3 ")  # type: ignore[attr-defined]
    assert "server=ldap-01" in link
    assert pg.problems == []  # cytoscape ran under the CSP: no violations, no errors  # type: ignore[attr-defined]


class Names:
    """A storage double of `n` recordings (names only) across many teams, projects and servers."""

    def __init__(self, n: int) -> None:
        self.objects = [
            StoredObject(f"ssh~202611{1 + i % 28:02d}T10{i % 60:02d}00.{i:04d}~team-{i % 20}~proj-{i % 100}"
                         f"~srv-{i % 1000}~user-{i % 50}~{i:06x}.cast", 1000, 1.7e9)
            for i in range(n)
        ]  # fmt: skip

    def list(self) -> Iterator[StoredObject]:
        return iter(self.objects)

    def read_head(self, key: str, size: int = 65536) -> bytes:
        return b""

    def describe(self) -> str:
        return "10,000 names"

    def check(self) -> None:
        return None


def test_interactive_graph_at_10000_recordings(page: object) -> None:
    """10,000 recordings, 1,000 servers: opens collapsed, expands every server, searches, fast."""
    pg = page  # type: ignore[assignment]
    settings = ViewerSettings.model_validate({"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "c" * 48})
    app = create_app(settings, Names(10_000), assets=fetch_player(), background_index=False)  # type: ignore[arg-type]
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    context = pg.context.browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 20
        while not httpx.get(f"{base}/health").is_success and time.monotonic() < deadline:
            time.sleep(0.2)
        other = context.new_page()
        problems: list[str] = []
        other.on("pageerror", lambda e: problems.append(str(e)))
        other.on("console", lambda m: m.type == "error" and problems.append(f"{m.text} {m.location.get('url')}"))
        other.goto(f"{base}/login?next=%2Fgraph%2Fexplore")
        other.fill("input[name=username]", "admin")
        other.fill("input[name=password]", PASSWORD)
        t0 = time.monotonic()
        other.click("button[type=submit]")
        other.wait_for_selector("#cy[data-ready]", state="attached", timeout=30000)
        opened = time.monotonic() - t0
        assert other.get_attribute("#cy", "data-nodes") == str(20 + 100)  # servers start collapsed
        t0 = time.monotonic()
        other.click("#expand-all")
        expanded = time.monotonic() - t0
        assert other.get_attribute("#cy", "data-nodes") == str(20 + 100 + 1000)
        other.fill("#graph-query", "srv-999")
        other.click("#graph-search button[type=submit]")
        assert "server srv-999" in other.inner_text("#graph-status")
        assert "10 sessions" in other.inner_text("#graph-pop")
        assert opened < 15 and expanded < 10, (opened, expanded)
        assert [p for p in problems if not p.endswith("/favicon.ico")] == []  # a fresh browser asks for one
    finally:
        context.close()
        srv.should_exit = True
        thread.join(10)


ZONE = "America/New_York"  # the browser's zone in the range test, not the machine's


def started_times(pg: object) -> list[datetime]:
    cells = pg.locator("table.sessions tbody tr td:first-child").all_inner_texts()  # type: ignore[attr-defined]
    return [datetime.strptime(c, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) for c in cells if c[:2] == "20"]


def test_time_range_presets_in_the_browser_zone(server: str, page: object) -> None:
    """Presets fill from/to in the browser's zone (New York here), show UTC, and filter exactly."""
    pg = page  # type: ignore[assignment]
    context = pg.context.browser.new_context(timezone_id=ZONE, viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    try:
        context.add_cookies(pg.context.cookies())  # type: ignore[attr-defined]
        other = context.new_page()
        problems: list[str] = []
        other.on("console", lambda m: m.type == "error" and problems.append(m.text))
        other.on("pageerror", lambda e: problems.append(str(e)))
        other.goto(f"{server}/sessions?per_page=100")
        assert other.inner_text("#tz-name") == ZONE
        local = datetime.now(ZoneInfo(ZONE))
        expected = {  # (from, to) as the presets compute them, in New York
            "today": (local.replace(hour=0, minute=0), local.replace(hour=23, minute=59)),
            "yesterday": ((local - timedelta(days=1)).replace(hour=0, minute=0),
                          (local - timedelta(days=1)).replace(hour=23, minute=59)),
            "7d": ((local - timedelta(days=6)).replace(hour=0, minute=0), local.replace(hour=23, minute=59)),
            "30d": ((local - timedelta(days=29)).replace(hour=0, minute=0), local.replace(hour=23, minute=59)),
            "year": (local.replace(month=1, day=1, hour=0, minute=0),
                     local.replace(month=12, day=31, hour=23, minute=59)),
        }  # fmt: skip
        for preset, (first, last) in expected.items():
            with other.expect_navigation():
                other.click(f'button[data-preset="{preset}"]')
            assert f"from={quote(first.strftime('%Y-%m-%dT%H:%M'))}" in other.url
            assert f"tz={quote(ZONE, safe='')}" in other.url
            assert other.input_value("#from") == first.strftime("%Y-%m-%dT%H:%M")
            assert other.input_value("#to") == last.strftime("%Y-%m-%dT%H:%M")
            lo, hi = first.astimezone(UTC), last.astimezone(UTC) + timedelta(minutes=1)
            assert other.inner_text("#from-utc") == "= " + lo.strftime("%Y-%m-%d %H:%M UTC")
            assert other.inner_text("#to-utc") == "= " + last.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            shown = started_times(other)
            assert all(lo <= t < hi for t in shown), (preset, shown)
            bounds = {"from": lo.isoformat(), "to": (hi - timedelta(microseconds=1)).isoformat()}
            jar = {c["name"]: c["value"] for c in context.cookies()}
            api = httpx.get(f"{server}/api/v1/recordings", cookies=jar, params=bounds)
            count = int(other.inner_text("#result-count").split()[0])
            assert api.status_code == 200 and api.json()["total"] == count, (preset, api.text[:300])
        assert int(other.inner_text("#result-count").split()[0]) > 0  # this year holds the seeded sessions
        with other.expect_navigation():
            other.click('button[data-preset="hour"]')
        first = datetime.strptime(other.input_value("#from"), "%Y-%m-%dT%H:%M")
        last = datetime.strptime(other.input_value("#to"), "%Y-%m-%dT%H:%M")
        assert last - first == timedelta(hours=1)
        other.fill("#from", "2026-06-01T08:15")  # typing updates the UTC equivalent (EDT, -4 h)
        assert other.inner_text("#from-utc") == "= 2026-06-01 12:15 UTC"
        other.screenshot(path=str(ARTIFACTS / "viewer-time-range.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def colours(pg: object) -> tuple[str, str]:
    got = pg.evaluate("(() => { const s = getComputedStyle(document.body); return [s.backgroundColor, s.color]; })()")  # type: ignore[attr-defined]
    return got[0], got[1]


def test_theme_toggle_persists(server: str, page: object) -> None:
    """Light, dark and auto (the system's preference) change the computed colours; the choice persists."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.emulate_media(color_scheme="light")  # type: ignore[attr-defined]
    pg.goto(f"{server}/")  # type: ignore[attr-defined]
    assert pg.input_value("#theme") == "auto"  # type: ignore[attr-defined]
    light = colours(pg)
    assert light == ("rgb(246, 247, 249)", "rgb(29, 35, 42)")
    pg.select_option("#theme", "dark")  # type: ignore[attr-defined]
    dark = colours(pg)
    assert dark == ("rgb(17, 21, 26)", "rgb(227, 231, 236)")
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    assert colours(pg) == dark and pg.input_value("#theme") == "dark"  # type: ignore[attr-defined]
    pg.goto(f"{server}/")  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-dark.png"), full_page=True)  # type: ignore[attr-defined]
    pg.select_option("#theme", "auto")  # type: ignore[attr-defined]
    assert colours(pg) == light  # auto, and the system prefers light
    pg.emulate_media(color_scheme="dark")  # type: ignore[attr-defined]
    assert colours(pg) == dark
    pg.select_option("#theme", "light")  # type: ignore[attr-defined]
    assert colours(pg) == light  # an explicit choice beats the system's
    pg.reload()  # type: ignore[attr-defined]
    assert colours(pg) == light and pg.input_value("#theme") == "light"  # type: ignore[attr-defined]
    pg.select_option("#theme", "auto")  # type: ignore[attr-defined]
    pg.emulate_media(color_scheme="light")  # type: ignore[attr-defined]
    assert pg.problems == []  # no CSP violations or script errors  # type: ignore[attr-defined]


def test_columns_resize_and_page_size(server: str, page: object) -> None:
    """Drag a column's handle: it widens and keeps its width on the next page; any page size 1-100."""
    pg = page  # type: ignore[assignment]
    pg.problems.clear()  # type: ignore[attr-defined]
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    pg.fill("#per-page", "13")  # type: ignore[attr-defined]
    pg.click("form.filters button[type=submit]")  # type: ignore[attr-defined]
    pg.wait_for_url("**per_page=13**")  # type: ignore[attr-defined]
    assert pg.locator("table.sessions tbody tr").count() == 13  # type: ignore[attr-defined]
    head = pg.locator("th[data-col=team]")  # type: ignore[attr-defined]
    before = head.bounding_box()
    grip = head.locator(".grip").bounding_box()
    x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
    pg.mouse.move(x, y)  # type: ignore[attr-defined]
    pg.mouse.down()  # type: ignore[attr-defined]
    pg.mouse.move(x + 120, y, steps=5)  # type: ignore[attr-defined]
    pg.mouse.up()  # type: ignore[attr-defined]
    after = head.bounding_box()
    assert after["width"] == pytest.approx(before["width"] + 120, abs=3)
    pg.click("a[rel=next]")  # type: ignore[attr-defined]
    pg.wait_for_url("**page=2**")  # type: ignore[attr-defined]
    assert pg.locator("th[data-col=team]").bounding_box()["width"] == pytest.approx(after["width"], abs=1)  # type: ignore[attr-defined]
    assert "per_page=13" in pg.url and pg.locator("table.sessions tbody tr").count() == 13  # type: ignore[attr-defined]
    pg.screenshot(path=str(ARTIFACTS / "viewer-columns.png"), full_page=True)  # type: ignore[attr-defined]
    pg.locator("th[data-col=team] .grip").dblclick()  # type: ignore[attr-defined]
    assert pg.evaluate("localStorage.getItem('lab-viewer-columns')") is None  # type: ignore[attr-defined]
    pg.goto(f"{server}/sessions?per_page=500")  # type: ignore[attr-defined]
    assert "per_page must be a whole number from 1 to 100" in pg.inner_text("main")  # type: ignore[attr-defined]
    assert pg.input_value("#per-page") == "50"  # type: ignore[attr-defined]
    assert pg.problems == []  # type: ignore[attr-defined]


def test_logout_then_old_cookie_refused(server: str, page: object) -> None:
    """Runs last: signs out, then replays the copied session cookie in a fresh browser context."""
    pg = page  # type: ignore[assignment]
    pg.goto(f"{server}/sessions")  # type: ignore[attr-defined]
    copied = pg.context.cookies()  # type: ignore[attr-defined]
    assert copied and all(c["name"].startswith("viewer_session_") for c in copied)
    pg.click("text=Sign out")  # type: ignore[attr-defined]
    pg.wait_for_url("**/login")  # type: ignore[attr-defined]
    other = pg.context.browser.new_context()  # type: ignore[attr-defined]
    try:
        other.add_cookies(copied)
        thief = other.new_page()
        thief.goto(f"{server}/sessions")
        assert "/login" in thief.url and thief.is_visible("input[name=password]")
        thief.screenshot(path=str(ARTIFACTS / "viewer-old-cookie-refused.png"))
    finally:
        other.close()
