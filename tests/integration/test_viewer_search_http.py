"""Search inside sessions through the real HTTP app: `lab viewer serve` (uvicorn, background
index and search threads) over S3 (moto in server mode on 127.0.0.1), driven with httpx.

New recordings become searchable after "Refresh index", deleted ones disappear, and the index
file lives where `VIEWER_SEARCH_DB` says, relative to the project directory, surviving a restart.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from lab.viewer.seed import sample_sessions

PASSWORD = "search-integration-pw"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
SUDO = "ssh~20260305T101500.0001~ops~core~bastion-01~alice~-1-0001.cast"
LATE = "ssh~20260306T101500.0001~ops~core~bastion-02~bob~-1-0002.cast"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cast(*events: list[object]) -> bytes:
    lines = [json.dumps({"version": 2, "width": 80, "height": 24})] + [json.dumps(e) for e in events]
    return ("\n".join(lines) + "\n").encode()


def wait(probe: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket="rec-search")
    for key, data in sample_sessions(6):
        client.put_object(Bucket="rec-search", Key=f"gw/{key}", Body=data)
    sudo = cast([0.5, "o", "\x1b[1;32malice@bastion-01\x1b[0m:~$ "], [2.0, "i", "sudo su\r"], [2.1, "o", "sudo su\r\n"])
    client.put_object(Bucket="rec-search", Key=f"gw/{SUDO}", Body=sudo)
    client.endpoint = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield client
    server.stop()


class Viewer:
    def __init__(self, root: Path, endpoint: str) -> None:
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VIEWER_ADMIN_PASSWORD": PASSWORD,
            "VIEWER_SESSION_SECRET": "i" * 48,
            "VIEWER_STORAGE": "s3",
            "VIEWER_S3_BUCKET": "rec-search",
            "VIEWER_S3_PREFIX": "gw",
            "VIEWER_S3_ENDPOINT_URL": endpoint,
            "VIEWER_S3_ACCESS_KEY_ID": "testing",
            "VIEWER_S3_SECRET_ACCESS_KEY": "testing",
            "VIEWER_SEED_COUNT": "0",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lab", "-C", str(self.root), "viewer", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait(lambda: self.client.get("/health").status_code == 200), "the viewer did not start"
        self.client.cookies.clear()
        token = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/login").text)
        assert token
        r = self.client.post("/login", data={"csrf": token.group(1), "username": "admin", "password": PASSWORD})
        assert r.status_code == 303

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None

    def search(self, q: str, where: str = "all") -> str:
        return self.client.get("/search", params={"q": q, "in": where}).text

    def sessions(self, q: str) -> list[str]:
        return [unescape(m) for m in re.findall(r'<a class="play" href="/play\?id=([^"]+)"', self.search(q))]

    def refresh(self) -> None:
        token = re.search(r'name="csrf" value="([^"]+)"', self.client.get("/sessions").text)
        assert token
        assert self.client.post("/refresh", data={"csrf": token.group(1)}).status_code == 303


@pytest.fixture(scope="module")
def viewer(s3: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    v = Viewer(tmp_path_factory.mktemp("lab"), s3.endpoint)
    v.start()
    yield v
    v.stop()
    v.client.close()


def test_search_needs_sign_in(viewer: Viewer) -> None:
    r = httpx.get(f"{viewer.base}/search?q=sudo", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_which_sessions_ran_sudo_su(viewer: Viewer) -> None:
    assert wait(lambda: viewer.sessions("sudo su")) == [SUDO]
    html = viewer.search("sudo su", "typed")
    link = unescape(re.search(r'<a class="hit" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert link == f"/play?id={SUDO}&t=2&tc=2"
    play = viewer.client.get(link)
    assert play.status_code == 200 and 'id="player"' in play.text
    assert wait(lambda: "Last login" in viewer.search("last login") and viewer.sessions("last login"))
    assert len(viewer.sessions("last login")) == 6


def test_new_and_deleted_recordings_follow_a_refresh(viewer: Viewer, s3: Any) -> None:
    wait(lambda: viewer.sessions("sudo su"))
    s3.put_object(Bucket="rec-search", Key=f"gw/{LATE}", Body=cast([1.0, "o", "$ sudo su -\r\n"]))
    viewer.refresh()
    assert wait(lambda: viewer.sessions("sudo su") == [LATE, SUDO]), viewer.sessions("sudo su")
    s3.delete_object(Bucket="rec-search", Key=f"gw/{SUDO}")
    viewer.refresh()
    assert wait(lambda: viewer.sessions("sudo su") == [LATE]), viewer.sessions("sudo su")


def test_the_index_lives_in_the_project_and_survives_a_restart(viewer: Viewer) -> None:
    db = viewer.root / "data" / "viewer" / "search.sqlite3"
    assert db.is_file()
    before = db.stat().st_mtime
    viewer.stop()
    viewer.start()
    assert wait(lambda: viewer.sessions("sudo su") == [LATE])
    assert "Searchable: 7 SSH recordings." in viewer.search("sudo su")
    assert db.stat().st_mtime >= before
