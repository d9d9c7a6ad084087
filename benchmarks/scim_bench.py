"""SCIM server benchmark (issues 6 and 12), against the real `db` image with 100,000 generated users.

Prints, in one run, each with its issue-12 target, for each database driver side by side
(`--drivers`, default `pymysql,mysqlclient`: the server is started once per driver with
SCIM_DB_DRIVER; a driver that is not installed is skipped with a line saying so):
  - the raw read of one user + its entitlements (`CALL GET_USER_BY_ID` + `CALL GET_USER_ENTITLEMENT`,
    one round trip, over that driver) and `GET /Users/{id}` over HTTPS (<= 1.5x raw);
  - `GET /Users?filter=userName eq "..."` (<= 2x `GET /Users/{id}`);
  - a full import: `GET /Users?count=100` from startIndex=1 until every user is read (<= 60 s);
  - creates per second (`POST /Users` with one entitlement, sequential; >= 300/s).

Usage: .venv/bin/python benchmarks/scim_bench.py [--users 100000] [--requests 1000] [--creates 500]
       [--drivers pymysql,mysqlclient] [--db FILE]
       (FILE: JSON {port, database, user, password} of an already loaded database)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from lab.company import generate_company
from lab.jdbc.container import DbContainer, build_image, free_port, write_sql
from lab.jdbc.sql import render_sql
from lab.runner import Runner
from lab.scim.driver import Driver, select_driver


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered), p95


def timed(fn: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def start_server(db: DbContainer, data: Path, driver: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "SCIM_DB_DRIVER": driver,
        "SCIM_DB_HOST": "127.0.0.1",
        "SCIM_DB_PORT": str(db.port),
        "MARIADB_DATABASE": db.database,
        "MARIADB_USER": db.user,
        "MARIADB_PASSWORD": db.password,
        "SCIM_DATA_DIR": str(data),
        "SCIM_LISTEN_PORT": str(port),
        "SCIM_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen([sys.executable, "-m", "lab.scim"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (data / "scim.crt").exists():
                ctx = ssl.create_default_context(cafile=str(data / "scim.crt"))
                if httpx.get(f"https://127.0.0.1:{port}/scim/v2/Status", verify=ctx).status_code == 200:
                    return proc, port
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the SCIM server did not start")


class Https:
    """A keep-alive stdlib HTTPS connection: measures the server, not the client library."""

    def __init__(self, port: int, ctx: ssl.SSLContext, token: str) -> None:
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        self.auth = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, auth: bool = True) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=self.auth if auth else {})
        response = self.conn.getresponse()
        return response.status, response.read()

    def post(self, path: str, body: dict[str, object]) -> tuple[int, bytes]:
        headers = {**self.auth, "Content-Type": "application/scim+json"}
        self.conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def load_database(args: argparse.Namespace, root: Path) -> tuple[DbContainer, bool]:
    """The database: a new container with `args.users` generated users, or the one `--db` names."""
    if args.db:
        info = json.loads(Path(args.db).read_text())
        db = DbContainer(sql_dir=root, data_dir=root, port=info["port"], database=info["database"])
        db.user, db.password = info["user"], info["password"]
        return db, False
    company = generate_company(args.users)
    write_sql(render_sql(company, "galaxy.local"), root / "sql")
    db = DbContainer(sql_dir=root / "sql", data_dir=root / "db", image=build_image(Runner()))
    db.start()
    db.wait_healthy(timeout=1800)
    return db, True


def active_ids(db: DbContainer) -> list[str]:
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT USER_ID FROM USERS WHERE IS_ACTIVE = 1")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def measure(db: DbContainer, driver: Driver, root: Path, args: argparse.Namespace) -> None:
    """Every measure with the server on `driver`, printed with its target."""
    ids = active_ids(db)  # a previous driver's run has created users
    proc, port = start_server(db, root / "scim", driver.name)
    try:
        token = (root / "scim" / "token").read_text().strip()
        ctx = ssl.create_default_context(cafile=str(root / "scim" / "scim.crt"))
        rng = random.Random(1)
        multi = driver.connect(
            host="127.0.0.1", port=db.port, user=db.user, password=db.password, database=db.database,
            connect_timeout=10,
        )  # fmt: skip

        def raw_resource() -> None:
            # What one SCIM user resource needs: the user row and its entitlements, one round trip.
            with multi.cursor() as cur:
                user_id = rng.choice(ids)
                cur.execute("CALL GET_USER_BY_ID(%s); CALL GET_USER_ENTITLEMENT(%s)", (user_id, user_id))
                while True:
                    if cur.description:
                        cur.fetchall()
                    if not cur.nextset():
                        break

        https = Https(port, ctx, token)

        def scim_get() -> None:
            status, body = https.get(f"/scim/v2/Users/{quote(rng.choice(ids), safe='@')}")
            assert status == 200, body

        def scim_filter() -> None:
            flt = quote(f'userName eq "{rng.choice(ids)}"')
            status, body = https.get(f"/scim/v2/Users?filter={flt}")
            assert status == 200 and b'"totalResults":1' in body, body

        def status() -> None:
            https.get("/scim/v2/Status", auth=False)

        raw_p50, raw_p95 = percentiles(timed(raw_resource, args.requests))
        floor_p50, floor_p95 = percentiles(timed(status, args.requests))
        get_p50, get_p95 = percentiles(timed(scim_get, args.requests))
        flt_p50, flt_p95 = percentiles(timed(scim_filter, args.requests))

        # A full import, as Okta runs it: count=100 pages from startIndex=1 until every user is read.
        start = time.perf_counter()
        seen, index, total, pages = 0, 1, None, 0
        while total is None or index <= total:
            status_code, body = https.get(f"/scim/v2/Users?startIndex={index}&count=100")
            assert status_code == 200, body
            page = json.loads(body)
            total = page["totalResults"]
            seen += len(page["Resources"])
            index += 100
            pages += 1
            if not page["Resources"]:
                break
        import_s = time.perf_counter() - start
        assert seen == total == len(ids), (seen, total, len(ids))

        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "name": {"givenName": "Bench", "familyName": "User"},
            "entitlements": [{"value": "1"}],
        }
        start = time.perf_counter()
        for i in range(args.creates):
            name = f"bench.{driver.name}.{i}.{os.getpid()}@galaxy.local"
            status_code, answer = https.post("/scim/v2/Users", {**body, "userName": name, "emails": [{"value": name}]})
            assert status_code == 201, answer
        creates = args.creates / (time.perf_counter() - start)

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        print(f"-- server on {driver.name}")
        print(f"raw user + entitlements ({driver.name}, 1 trip) p50 {raw_p50:6.2f} ms  p95 {raw_p95:6.2f} ms")
        print(f"GET /Status (HTTPS floor, no database)     p50 {floor_p50:6.2f} ms  p95 {floor_p95:6.2f} ms")
        print(f"GET /Users/{{id}}                            p50 {get_p50:6.2f} ms  p95 {get_p95:6.2f} ms")
        print(f"GET /Users?filter=userName eq              p50 {flt_p50:6.2f} ms  p95 {flt_p95:6.2f} ms")
        ratio_get = get_p50 / raw_p50
        ratio_flt = flt_p50 / get_p50
        print(f"GET /Users/{{id}} / raw       p50 {ratio_get:5.2f} x  (target <= 1.5 x: {verdict(ratio_get <= 1.5)})")
        print(f"userName eq / GET /Users/{{id}} p50 {ratio_flt:5.2f} x  (target <= 2 x: {verdict(ratio_flt <= 2)})")
        met = verdict(import_s <= 60)
        print(f"full import, count=100       {import_s:6.1f} s for {pages} pages  (target <= 60 s: {met})")
        print(f"POST /Users (1 entitlement)  {creates:6.1f} creates/s  (target >= 300/s: {verdict(creates >= 300)})")
        sys.stdout.flush()
        multi.close()
        https.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--drivers", default="pymysql,mysqlclient", help="comma-separated: pymysql, mysqlclient")
    parser.add_argument("--db", help="JSON file naming an already loaded database (port, database, user, password)")
    args = parser.parse_args()
    drivers = []
    for name in [n.strip() for n in args.drivers.split(",") if n.strip()]:
        try:
            drivers.append(select_driver(name))
        except Exception as exc:  # noqa: BLE001 - reported, the other drivers still run
            print(f"-- {name}: skipped ({exc})")

    root = Path(tempfile.mkdtemp(prefix="scim-bench-"))
    t0 = time.perf_counter()
    db, owned = load_database(args, root)
    load_s = time.perf_counter() - t0
    try:
        ids = active_ids(db)
        print(f"users in database: {len(ids)} (loaded in {load_s:.0f} s); {args.requests} requests per measure")
        print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
        for driver in drivers:
            measure(db, driver, root, args)
            load = os.getloadavg()
            print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        if owned:
            db.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
