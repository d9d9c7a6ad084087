"""RADIUS stand-in benchmark (issue 13): the lab's client vs `radclient`, and server throughput.

Prints, in one run, against one real `radius` service (FreeRADIUS + the lab LDAP):
  - p50/p95 of one Access-Request (PAP, checked by an LDAP bind) -> its reply, for
    lab.radius.client (the client `lab radius test` uses, in-process) and for `radclient`
    (one process per request, timed inside a container on the host network, so both go to the
    same published port), and their ratio (target: lab client <= 1.5x radclient);
  - the same for a whole `lab radius test` invocation (a Python process start included);
  - requests/s the server sustains for --seconds, sequential and with 8 concurrent clients.

The measured reply is the Access-Challenge that follows a correct password: an Access-Accept
needs a TOTP code, and the server accepts each code once, so it cannot be repeated in a loop.

Usage: .venv/bin/python benchmarks/radius.py [--requests 200] [--seconds 10] [--lab DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from _common import lab, median, new_lab, pct

from lab.config import LabConfig
from lab.radius.client import RadiusClient

RADCLIENT_LOOP = r"""
set -eu
f=$(mktemp); printf '%s\n' "$RADIUS_SECRET" > "$f"
req="User-Name = \"$U\", User-Password = \"$P\", NAS-IP-Address = 127.0.0.1"
req="$req, Calling-Station-Id = \"127.0.0.1\", Message-Authenticator = 0x00"
# one process sending N requests one after the other (-c N -p 1): the mean, without process starts
s=$(date +%s%N)
echo "$req" | radclient -q -c "$N" -p 1 -r 1 -t 5 -S "$f" "127.0.0.1:$PORT" auth >/dev/null 2>&1 || true
e=$(date +%s%N)
echo "batch $(( (e - s) / 1000 ))"
i=0
while [ $i -lt "$N" ]; do
  s=$(date +%s%N)
  echo "$req" | radclient -q -r 1 -t 5 -S "$f" "127.0.0.1:$PORT" auth >/dev/null 2>&1 || true
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
  i=$((i + 1))
done
"""


def lab_client_times(cfg: LabConfig, user: str, n: int) -> list[float]:
    out = []
    with RadiusClient("127.0.0.1", cfg.radius.port, cfg.radius.shared_secret, timeout=5, interval=5) as c:
        for _ in range(n):
            start = time.perf_counter()
            reply = c.send(c.build(user, cfg.ldap.demo_password))
            out.append(time.perf_counter() - start)
            assert reply.code == "Access-Challenge", reply
    return out


def radclient_times(cfg: LabConfig, image: str, user: str, n: int) -> tuple[float, list[float]]:
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", "--entrypoint", "sh",
         "-e", "RADIUS_SECRET", "-e", "U", "-e", "P", "-e", "N", "-e", "PORT", image, "-c", RADCLIENT_LOOP],
        capture_output=True, text=True, check=True,
        env={"RADIUS_SECRET": cfg.radius.shared_secret, "U": user, "P": cfg.ldap.demo_password,
             "N": str(n), "PORT": str(cfg.radius.port), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )  # fmt: skip
    lines = proc.stdout.splitlines()
    batch = float(lines[0].split()[1]) / 1e6 / n
    return batch, [int(line) / 1e6 for line in lines[1:]]


def cli_times(root: Path, user: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "lab", "-C", str(root), "radius", "test", "-u", user, "--max-rounds", "1",
             "--answer", "9", "--answer", "9"],
            capture_output=True, text=True,
        )  # fmt: skip
        out.append(time.perf_counter() - start)
        assert "gave up" in run.stderr, run.stderr  # two challenges answered, then it stops
    return out


def throughput(cfg: LabConfig, user: str, seconds: float, workers: int) -> float:
    count = [0] * workers
    stop = time.monotonic() + seconds

    def work(i: int) -> None:
        with RadiusClient("127.0.0.1", cfg.radius.port, cfg.radius.shared_secret, timeout=5, interval=5) as c:
            while time.monotonic() < stop:
                if c.send(c.build(user, cfg.ldap.demo_password)).code == "Access-Challenge":
                    count[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--cli-runs", type=int, default=10)
    parser.add_argument("--lab", type=Path, help="an existing lab with radius up (default: a new one)")
    opts = parser.parse_args()
    root = opts.lab or new_lab(["radius"])
    created = opts.lab is None
    try:
        if created:
            lab(root, "up", "radius")
        cfg = LabConfig.from_env(root / ".env")
        import json

        status = json.loads(lab(root, "status", "--json").stdout)
        container = next(s["container"] for s in status["services"] if s["service"] == "radius")
        image = subprocess.run(
            ["docker", "inspect", "-f", "{{.Config.Image}}", container], capture_output=True, text=True, check=True
        ).stdout.strip()
        user = f"luke.skywalker@{cfg.ldap.mail_domain}"
        lab_client_times(cfg, user, 10)  # warm the LDAP connection pool
        ours = lab_client_times(cfg, user, opts.requests)
        batch, theirs = radclient_times(cfg, image, user, opts.requests)
        cli = cli_times(root, user, opts.cli_runs)
        print(f"{'Access-Request -> reply':<34} {'p50 ms':>8} {'p95 ms':>8}")
        for name, values in (
            ("lab.radius.client (in-process)", ours),
            ("radclient (one process each)", theirs),
            ("lab radius test (3 rounds, CLI)", cli),
        ):
            print(f"{name:<34} {median(values) * 1000:8.2f} {pct(values, 95) * 1000:8.2f}")
        mean = sum(ours) / len(ours)
        print(
            f"mean of {opts.requests} in a row, one process: lab.radius.client {mean * 1000:.2f} ms, "
            f"radclient -c {opts.requests} -p 1 {batch * 1000:.2f} ms"
        )
        ratio = mean / batch
        verdict = "met" if ratio <= 1.5 else "MISSED"
        print(f"ratio lab client / radclient (mean, both one process): {ratio:.2f}x -> target <= 1.5x {verdict}")
        print(f"ratio lab client / radclient (p50, radclient a process each): {median(ours) / median(theirs):.3f}x")
        seq = throughput(cfg, user, opts.seconds, 1)
        par = throughput(cfg, user, opts.seconds, 8)
        print(f"server throughput ({opts.seconds:g} s each): {seq:.0f} req/s sequential, {par:.0f} req/s 8 concurrent")
    finally:
        if created:
            lab(root, "destroy", "--yes")


if __name__ == "__main__":
    main()
