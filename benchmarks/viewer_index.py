"""Viewer benchmarks: index build time at 10,000 and 100,000 recordings, list-page latency
(p50/p95, full HTTP round trip through the app) at 10,000, the graph page at 10,000 (overview
and one team's first page: latency and HTML size), and the viewer's CPU time to index 10,000
objects listed from an S3 server (moto in its own process on 127.0.0.1, so its CPU is not
counted; the target is <= 0.5 s).

Run: .venv/bin/python benchmarks/viewer_index.py [--pages 200] [--s3-objects 10000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.index import RecordingIndex
from lab.viewer.s3 import S3Storage
from lab.viewer.storage import LocalStorage, StoredObject

TEAMS = [f"team-{i}" for i in range(8)]
PROJECTS = [f"project-{i}" for i in range(40)]
SERVERS = [f"srv-{i:03d}" for i in range(400)]
USERS = [f"user.{i:03d}" for i in range(300)]


class SyntheticStorage:
    """`n` recording names as a bucket listing would return them (no I/O)."""

    def __init__(self, n: int) -> None:
        rng = random.Random(n)
        self.objects = []
        for i in range(n):
            proto, ext = ("ssh", ".cast") if rng.random() < 0.8 else ("rdp", ".asa-1.mkv")
            stamp = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}0000.{i % 10000:04d}"
            fields = [rng.choice(TEAMS), rng.choice(PROJECTS), rng.choice(SERVERS), rng.choice(USERS)]
            name = f"{proto}~{stamp}~{'~'.join(fields)}~-1-{i:08x}{ext}"
            if i % 500 == 0:
                name = f"unmatched-export-{i}.cast"
            self.objects.append(StoredObject(name, rng.randint(1000, 10**7), 1.7e9))

    def list(self) -> Iterator[StoredObject]:
        return iter(self.objects)

    def read_head(self, key: str, size: int = 65536) -> bytes:
        return b""  # names only: nothing for the search index to read

    def describe(self) -> str:
        return "synthetic"

    def check(self) -> None:
        return None


def build_time(n: int, runs: int = 3) -> float:
    storage = SyntheticStorage(n)
    index = RecordingIndex(storage)  # type: ignore[arg-type]
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        index.refresh_now()
        best = min(best, time.perf_counter() - t)
    assert len(index.snapshot.recordings) == n
    return best


def folder_build_time(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        for obj in SyntheticStorage(n).objects:
            (Path(tmp) / obj.key).touch()
        index = RecordingIndex(LocalStorage(Path(tmp)))
        t = time.perf_counter()
        index.refresh_now()
        return time.perf_counter() - t


def s3_index_cpu(n: int, runs: int = 3) -> tuple[float, float]:
    """(best CPU seconds, wall seconds of that run) of the viewer listing and indexing `n` objects
    from a moto server; only this process's CPU counts, the server runs in a subprocess."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.2)
        keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench-secret"}
        storage = S3Storage(
            "bench-recordings", endpoint_url=url, access_key_id="bench", secret_access_key="bench-secret"
        )
        storage.client.create_bucket(Bucket="bench-recordings")
        names = [o.key for o in SyntheticStorage(n).objects]
        put = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **keys)
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda k: put.put_object(Bucket="bench-recordings", Key=k, Body=b""), names))
        index = RecordingIndex(storage)
        best = (float("inf"), 0.0)
        for _ in range(runs):
            cpu, wall = time.process_time(), time.perf_counter()
            index.refresh_now()
            best = min(best, (time.process_time() - cpu, time.perf_counter() - wall))
        assert len(index.snapshot.recordings) == n, index.snapshot.error
        return best
    finally:
        server.terminate()
        server.wait(timeout=10)


def page_latency(n: int, pages: int) -> tuple[float, float]:
    settings = ViewerSettings.model_validate(
        {"VIEWER_ADMIN_PASSWORD": "bench-password-1", "VIEWER_SESSION_SECRET": "x" * 48}
    )
    app = create_app(settings, SyntheticStorage(n), background_index=False)  # type: ignore[arg-type]
    rng = random.Random(1)
    queries = [
        "",
        "?page=37",
        "?team=team-3",
        "?team=team-3&project=project-7&sort=user&order=asc",
        "?q=srv-12",
        "?from=2026-03-01&to=2026-05-31&sort=size",
        "?protocol=rdp&per_page=100&page=5",
        "?user=user.042&sort=server",
    ]
    times = []
    with TestClient(app) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        c.post("/login", data={"csrf": token, "username": "admin", "password": "bench-password-1"})
        for q in queries:  # warm the lazily built sort ranks
            c.get(f"/sessions{q}")
        for _ in range(pages):
            q = rng.choice(queries)
            t = time.perf_counter()
            r = c.get(f"/sessions{q}")
            times.append(time.perf_counter() - t)
            assert r.status_code == 200
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def graph_latency(n: int, runs: int = 20) -> list[tuple[str, float, float, int]]:
    """(page, p50 s, p95 s, HTML bytes) for the graph overview and one team's first page."""
    settings = ViewerSettings.model_validate(
        {"VIEWER_ADMIN_PASSWORD": "bench-password-1", "VIEWER_SESSION_SECRET": "x" * 48}
    )
    app = create_app(settings, SyntheticStorage(n), background_index=False)  # type: ignore[arg-type]
    out = []
    with TestClient(app) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        c.post("/login", data={"csrf": token, "username": "admin", "password": "bench-password-1"})
        for path in ("/graph", "/graph?team=team-3"):
            times, size = [], 0
            for _ in range(runs):
                t = time.perf_counter()
                r = c.get(path)
                times.append(time.perf_counter() - t)
                size = len(r.content)
            times.sort()
            out.append((path, statistics.median(times), times[int(len(times) * 0.95) - 1], size))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--s3-objects", type=int, default=10_000, help="0 skips the S3 measurement")
    args = parser.parse_args()
    if args.s3_objects:
        cpu, wall = s3_index_cpu(args.s3_objects)
        print(
            f"S3 index, {args.s3_objects:>7,} objects from moto on 127.0.0.1: {cpu:.3f} s viewer CPU "
            f"(target <= 0.5 s), {wall:.3f} s wall"
        )
    for n in (10_000, 100_000):
        print(f"index build, {n:>7,} recordings (listing parsed + indexed): {build_time(n):.3f} s")
    print(f"index build, {10_000:>7,} files in a local folder (incl. os.walk):   {folder_build_time(10_000):.3f} s")
    p50, p95 = page_latency(10_000, args.pages)
    print(f"list page at 10,000 recordings, {args.pages} requests: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    for path, g50, g95, size in graph_latency(10_000):
        timing = f"p50 {g50 * 1000:.1f} ms, p95 {g95 * 1000:.1f} ms"
        print(f"{path} at 10,000 recordings: {timing}, {size / 1024:.0f} KiB of HTML")


if __name__ == "__main__":
    main()
