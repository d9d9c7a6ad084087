"""Latency of the lab's read procedures, as Okta's connector calls them, at 15 and 10,000 users.

Builds the `db` image, starts one throw-away container per company size (loopback only), waits
for the seed, then times `CALL GET_USER_BY_ID(?)` (random existing users) and
`CALL GET_ACTIVEUSERS()` from PyMySQL as the application user. Prints p50/p95 in milliseconds.

    .venv/bin/python benchmarks/jdbc_procedures.py [--runs N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from lab.company import Company, generate_company, load_company
from lab.jdbc.container import DbContainer, build_image, write_sql
from lab.jdbc.sql import render_sql
from lab.runner import Runner

DOMAIN = "galaxy.local"


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(cursor: object, proc: str, args: tuple[object, ...]) -> float:
    start = time.perf_counter()
    cursor.callproc(proc, args)  # type: ignore[attr-defined]
    cursor.fetchall()  # type: ignore[attr-defined]
    while cursor.nextset():  # type: ignore[attr-defined]
        pass
    return (time.perf_counter() - start) * 1000


def bench(company: Company, label: str, runs: int, image: str) -> list[tuple[str, str, int, float, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp:
        t0 = time.perf_counter()
        write_sql(render_sql(company, DOMAIN), Path(tmp) / "sql")
        render_s = time.perf_counter() - t0
        db = DbContainer(sql_dir=Path(tmp) / "sql", data_dir=Path(tmp) / "data", image=image)
        db.start()
        try:
            t0 = time.perf_counter()
            db.wait_healthy(timeout=600)
            load_s = time.perf_counter() - t0
            conn = db.connect()
            cur = conn.cursor()
            cur.execute("SELECT COUNT(*) FROM USERS")
            users = cur.fetchone()[0]
            print(f"{label}: {users} users; render {render_s:.2f}s, start+load {load_s:.1f}s")
            ids = [p.login(DOMAIN) for p in company.people]
            rng = random.Random(1)
            for _ in range(20):  # warm-up
                timed(cur, "GET_USER_BY_ID", (rng.choice(ids),))
            by_id = [timed(cur, "GET_USER_BY_ID", (rng.choice(ids),)) for _ in range(runs)]
            active_runs = max(10, runs // 10) if users > 1000 else runs
            active = [timed(cur, "GET_ACTIVEUSERS", ()) for _ in range(active_runs)]
            for name, samples in (("CALL GET_USER_BY_ID(?)", by_id), ("CALL GET_ACTIVEUSERS()", active)):
                rows.append((label, name, len(samples), statistics.median(samples),
                             percentile(samples, 95), max(samples)))  # fmt: skip
            conn.close()
        finally:
            db.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="calls per measurement (default 500)")
    parser.add_argument("--users", type=int, default=10_000, help="size of the large company")
    args = parser.parse_args()
    image = build_image(Runner())
    results = bench(load_company("galaxy"), "15 users (The Galaxy)", args.runs, image)
    results += bench(generate_company(args.users), f"{args.users:,} users (synthetic)", args.runs, image)
    print()
    print(f"{'company':<28} {'statement':<24} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, name, n, p50, p95, worst in results:
        print(f"{label:<28} {name:<24} {n:>5} {p50:>8.2f} {p95:>8.2f} {worst:>8.2f}")


if __name__ == "__main__":
    main()
