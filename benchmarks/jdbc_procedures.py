"""Latency of the lab's read routines, as Okta's connector calls them, at 15 and 10,000 users, on
MariaDB and PostgreSQL side by side.

Builds each engine's `db` image, starts one throw-away container per engine and company size
(loopback only), waits for the seed, then times "get user by id" (random existing users) and
"get users" as the application user: `CALL GET_USER_BY_ID(?)` / `CALL GET_ACTIVEUSERS()` from
PyMySQL on MariaDB, `SELECT * FROM GET_USER_BY_ID(%s)` / `SELECT * FROM GET_ACTIVEUSERS()` from
psycopg 3 on PostgreSQL (values bound as strings, as the connector's setString). Prints
start+load seconds and p50/p95/max in milliseconds, one row per measurement and engine.

    .venv/bin/python benchmarks/jdbc_procedures.py [--runs N] [--users N] [--engines mariadb,postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lab.company import Company, generate_company, load_company
from lab.jdbc.container import DbContainer, build_image, write_sql
from lab.jdbc.sql import ENGINES, call_syntax, render_sql
from lab.runner import Runner

DOMAIN = "galaxy.local"
Row = tuple[str, str, str, int, float, float, float, float]


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(engine: str, cursor: Any, proc: str, args: tuple[object, ...]) -> float:
    start = time.perf_counter()
    if engine == "postgresql":
        cursor.execute(call_syntax(engine, proc, len(args), "%s"), [str(a) for a in args])
        cursor.fetchall()
    else:
        cursor.callproc(proc, args)
        cursor.fetchall()
        while cursor.nextset():
            pass
    return (time.perf_counter() - start) * 1000


def bench(engine: str, company: Company, label: str, runs: int, image: str) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lab-bench-") as tmp:
        write_sql(render_sql(company, DOMAIN, dialect=engine), Path(tmp) / "sql")
        db = DbContainer(sql_dir=Path(tmp) / "sql", data_dir=Path(tmp) / "data", image=image, engine=engine)
        db.start()
        try:
            t0 = time.perf_counter()
            db.wait_healthy(timeout=600)
            load_s = time.perf_counter() - t0
            conn = db.connect()
            cur = conn.cursor()
            cur.execute("SELECT COUNT(*) FROM USERS")
            users = cur.fetchone()[0]
            print(f"{engine} {label}: {users} users; start+load {load_s:.1f}s", flush=True)
            ids = [p.login(DOMAIN) for p in company.people]
            rng = random.Random(1)
            for _ in range(20):  # warm-up
                timed(engine, cur, "GET_USER_BY_ID", (rng.choice(ids),))
            by_id = [timed(engine, cur, "GET_USER_BY_ID", (rng.choice(ids),)) for _ in range(runs)]
            active_runs = max(10, runs // 10) if users > 1000 else runs
            active = [timed(engine, cur, "GET_ACTIVEUSERS", ()) for _ in range(active_runs)]
            for name, samples in (("get user by id", by_id), ("get users (all active)", active)):
                rows.append((label, name, engine, len(samples), load_s, statistics.median(samples),
                             percentile(samples, 95), max(samples)))  # fmt: skip
            conn.close()
        finally:
            db.remove()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500, help="calls per measurement (default 500)")
    parser.add_argument("--users", type=int, default=10_000, help="size of the large company")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated (default: both)")
    args = parser.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engine {unknown[0]!r}; use {' or '.join(ENGINES)}")
    large = generate_company(args.users)
    results: list[Row] = []
    for engine in engines:
        image = build_image(Runner(), engine=engine)
        results += bench(engine, load_company("galaxy"), "15 users (The Galaxy)", args.runs, image)
        results += bench(engine, large, f"{args.users:,} users (synthetic)", args.runs, image)
    results.sort(key=lambda r: (r[0] != "15 users (The Galaxy)", r[1], engines.index(r[2])))
    print()
    head = ("company", "operation", "engine", "n", "load s", "p50 ms", "p95 ms", "max ms")
    print("{:<26} {:<24} {:<11} {:>5} {:>7} {:>8} {:>8} {:>8}".format(*head))
    for label, name, engine, n, load_s, p50, p95, worst in results:
        print(f"{label:<26} {name:<24} {engine:<11} {n:>5} {load_s:>7.1f} {p50:>8.2f} {p95:>8.2f} {worst:>8.2f}")


if __name__ == "__main__":
    main()
