"""Search inside sessions: first full index build and search latency at 10,000 SSH sessions.

The sessions are synthetic but shaped like real admin sessions: a coloured prompt, commands typed
one key per event (half of them also with input events), outputs from a pool of listings, logs,
process tables and a full-screen `top` with cursor movement, 4-40 commands a session, and 1 in
100 sessions with a long log dump (0.5-2 MB). Printed: the size distribution, the first build
(list + index, from a local folder), a refresh with nothing new, and the p50/p95 of searches
through the HTTP app (sign-in, /search, the full page rendered), and of the query alone.

Run: .venv/bin/python benchmarks/viewer_search.py [--sessions 10000] [--searches 300]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.index import RecordingIndex
from lab.viewer.search import SearchIndex
from lab.viewer.storage import LocalStorage

USERS = [f"user.{i:03d}" for i in range(200)]
SERVERS = [f"srv-{i:03d}" for i in range(300)]
WORDS = [
    "error",
    "warning",
    "failed",
    "started",
    "stopped",
    "connection",
    "timeout",
    "accepted",
    "session",
    "opened",
    "closed",
]
COMMANDS = [
    "ls -la /etc/nginx",
    "sudo su -",
    "sudo systemctl restart nginx",
    "journalctl -u nginx --since today --no-pager",
    "ps aux --sort=-%mem | head -20",
    "df -h",
    "cat /etc/os-release",
    "tail -n 50 /var/log/auth.log",
    "kubectl get pods -n production",
    "grep -r password /etc/app/",
    "top",
    "vi /etc/hosts",
    "docker ps",
    "sudo cat /etc/shadow",
    "git log --oneline -20",
    "uptime",
]


def output(rng: random.Random, cmd: str) -> list[str]:
    """The output of one command as a list of event payloads."""
    if cmd.startswith("ls"):
        return [
            "".join(
                f"-rw-r--r-- 1 root root {rng.randint(100, 99999):>6} Mar {rng.randint(1, 28):>2} 10:{i:02d} "
                f"\x1b[01;34mfile-{i}.conf\x1b[0m\r\n"
                for i in range(rng.randint(3, 25))
            )
        ]
    if cmd == "top":
        frames = []
        for f in range(rng.randint(2, 6)):
            rows = "".join(
                f"\x1b[{r + 8};1H{rng.randint(1, 40000):>7} root      20   0 {rng.randint(1000, 900000):>7} "
                f"{rng.random() * 100:5.1f} {rng.choice(['nginx', 'java', 'postgres', 'sshd', 'python3'])}\x1b[K"
                for r in range(20)
            )
            frames.append(f"\x1b[H\x1b[2Jtop - 10:{f:02d}:00 up 3 days, load average: 0.{f}\x1b[K{rows}")
        return ["\x1b[?1049h", *frames, "\x1b[?1049l"]
    if cmd.startswith("vi"):
        return ["\x1b[?1049h\x1b[H127.0.0.1 localhost\r\n10.0.0.5 db-01\r\n~\r\n~\r\n\x1b[24;1H:wq\x1b[?1049l"]
    n = rng.randint(1, 25)
    return [
        "".join(
            f"Mar {rng.randint(1, 28)} 10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
            f"{rng.choice(SERVERS)} {rng.choice(['sshd', 'nginx', 'kernel', 'systemd'])}[{rng.randint(100, 9999)}]: "
            f"{' '.join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))}\r\n"
            for _ in range(min(n, 20))
        )
        for _ in range(max(1, n // 20))
    ]


def session(rng: random.Random, user: str, server: str, big: bool) -> bytes:
    typed = rng.random() < 0.5
    prompt = json.dumps(f"\x1b[1;32m{user}@{server}\x1b[0m:\x1b[1;34m~\x1b[0m$ ")
    lines = [json.dumps({"version": 2, "width": 120, "height": 32, "timestamp": 1772000000})]
    t = 0.3
    lines.append(
        f'[{t:.3f}, "o", {json.dumps("Last login: Mon Mar  2 10:00:00 2026 from 10.0.4.17" + chr(13) + chr(10))}]'
    )
    for _ in range(rng.randint(4, 40)):
        cmd = rng.choice(COMMANDS)
        t += rng.uniform(0.5, 20)
        lines.append(f'[{t:.3f}, "o", {prompt}]')
        for ch in cmd + "\r":
            t += rng.uniform(0.03, 0.2)
            if typed:
                lines.append(f'[{t:.3f}, "i", {json.dumps(ch)}]')
            lines.append(f'[{t:.3f}, "o", {json.dumps(ch if ch != chr(13) else chr(13) + chr(10))}]')
        for payload in output(rng, cmd):
            t += rng.uniform(0.01, 0.5)
            lines.append(f'[{t:.3f}, "o", {json.dumps(payload)}]')
    if big:
        block = json.dumps(
            "".join(f"Mar 2 10:00:{i % 60:02d} app[42]: request {i} served in 3 ms\r\n" for i in range(200))
        )
        for _ in range(rng.randint(30, 150)):
            t += 0.05
            lines.append(f'[{t:.3f}, "o", {block}]')
    lines.append(f'[{t + 1:.3f}, "o", "exit\\r\\nlogout\\r\\n"]')
    return ("\n".join(lines) + "\n").encode()


def write_sessions(root: Path, n: int) -> list[int]:
    rng = random.Random(n)
    sizes = []
    for i in range(n):
        user, server = rng.choice(USERS), rng.choice(SERVERS)
        stamp = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}0000.{i % 10000:04d}"
        data = session(rng, user, server, big=i % 100 == 42)
        (root / f"ssh~{stamp}~team-{i % 3}~project-{i % 17}~{server}~{user}~-1-{i:08x}.cast").write_bytes(data)
        sizes.append(len(data))
    return sizes


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * p) - 1)]


QUERIES = [
    ("sudo su", "all"),
    ("sudo cat /etc/shadow", "all"),
    ("passwd", "typed"),
    ("systemctl restart nginx", "all"),
    ("connection timeout", "shown"),
    ("kube*", "all"),
    ('"grep -r" password', "all"),
    ("load average", "shown"),
    ("Last login", "all"),  # in every session: the worst case
    ("segfault", "all"),  # in none
    ("request 4242 served", "all"),  # only in the long dumps
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--dir", type=Path, help="keep the sessions here (and reuse them next time)")
    parser.add_argument("--reuse-index", action="store_true", help="with --dir: keep the index too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lab-bench-search-") as scratch:
        tmp = args.dir or Path(scratch)
        root = tmp / "recordings"
        t = time.perf_counter()
        if root.is_dir() and len(list(root.iterdir())) == args.sessions:
            sizes = [p.stat().st_size for p in root.iterdir()]
        else:
            root.mkdir(parents=True, exist_ok=True)
            sizes = write_sessions(root, args.sessions)
        total = sum(sizes)
        print(
            f"{args.sessions:,} sessions written in {time.perf_counter() - t:.1f} s: {total / 2**20:,.0f} MiB, "
            f"median {statistics.median(sizes) / 1024:.0f} KiB, mean {total / len(sizes) / 1024:.0f} KiB, "
            f"p99 {percentile(sizes, 0.99) / 1024:,.0f} KiB, max {max(sizes) / 2**20:.1f} MiB"
        )
        storage = LocalStorage(root)
        db = tmp / "data" / "search.sqlite3"
        if not args.reuse_index:
            for leftover in db.parent.glob("search.sqlite3*"):
                leftover.unlink()
        index = RecordingIndex(storage)
        search = SearchIndex(db, index, storage)
        t = time.perf_counter()
        index.refresh_now()
        search.refresh_now()
        build = time.perf_counter() - t
        print(
            f"first full index build (list + text of every session): {build:.1f} s wall-clock, "
            f"{search.status.cpu_seconds:.1f} CPU-s (writer thread + {search.workers} worker processes; "
            f"{search.status.counts}, index file {db.stat().st_size / 2**20:,.0f} MiB)"
        )
        t = time.perf_counter()
        index.refresh_now()
        search.refresh_now()
        print(f"refresh with nothing new: {time.perf_counter() - t:.2f} s")

        rng = random.Random(1)
        direct, cpu = [], []
        for _ in range(args.searches):
            q, where = rng.choice(QUERIES)
            t, c = time.perf_counter(), time.thread_time()
            search.search(q, where)
            direct.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        settings = ViewerSettings.model_validate(
            {"VIEWER_ADMIN_PASSWORD": "bench-password-1", "VIEWER_SESSION_SECRET": "x" * 48}
        )
        app = create_app(settings, storage, background_index=False, search_db=db)
        times: dict[str, list[float]] = {q: [] for q, _ in QUERIES}
        with TestClient(app) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
            c.post("/login", data={"csrf": token, "username": "admin", "password": "bench-password-1"})
            for _ in range(args.searches):
                q, where = rng.choice(QUERIES)
                t = time.perf_counter()
                r = c.get("/search", params={"q": q, "in": where})
                times[q].append(time.perf_counter() - t)
                assert r.status_code == 200
        every = [x for v in times.values() for x in v]
        print(
            f"search, query alone, {args.searches} searches: p50 {statistics.median(direct) * 1000:.1f} ms, "
            f"p95 {percentile(direct, 0.95) * 1000:.1f} ms wall-clock; CPU time p50 "
            f"{statistics.median(cpu) * 1000:.1f} ms, p95 {percentile(cpu, 0.95) * 1000:.1f} ms"
        )
        print(
            f"search page through the HTTP app, {args.searches} searches: "
            f"p50 {statistics.median(every) * 1000:.1f} ms, "
            f"p95 {percentile(every, 0.95) * 1000:.1f} ms"
        )
        for q, v in times.items():
            if v:
                print(f"  {q!r:32} p95 {percentile(v, 0.95) * 1000:6.1f} ms ({len(v)} runs)")


if __name__ == "__main__":
    main()
