"""Remote Docker host: wall time of `lab up --host` against this machine over SSH (127.0.0.1).

A private sshd (tests/hosts/sshd.py) plays the remote host; the lab gets free loopback ports and
its own project name. Prints the first run (images built when missing, everything shipped) and
the no-op re-runs (nothing changed: nothing shipped, built or recreated; compose up skipped), and
beside them, in the same run, the floor: a raw `ssh host docker compose ps` of the same project
(one SSH connection and one compose call), then destroys the lab. Target: no-op <= 5 s.

    .venv/bin/python benchmarks/host_up_remote.py [--runs N] [STACK...]     # default: ldap jdbc viewer
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import row

from tests.hosts.sshd import local_sshd
from tests.hosts.testhost import free_port, port_keys, write_lab


def lab(root: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"lab {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return took, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="no-op re-runs to time")
    parser.add_argument("stacks", nargs="*", default=["ldap", "jdbc", "viewer"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lab-bench-remote-"))
    project = f"benchremote{free_port()}"
    (work / "sshd").mkdir()
    with local_sshd(work / "sshd") as sshd:
        root = write_lab(
            work / "lab",
            f"[docker]\n{sshd.inventory_line('bench')}\n",
            LAB_BIND="127.0.0.1",
            LAB_PROJECT=project,
            **{k: str(free_port()) for k in port_keys()},
        )
        try:
            first, _ = lab(root, "up", "--host", "bench", *args.stacks)
            noops: list[float] = []
            raw: list[float] = []
            shipped = skipped = ""
            ps = raw_compose_ps(sshd.port, sshd.key_file, project)
            for _ in range(args.runs):
                took, proc = lab(root, "-v", "up", "--host", "bench", *args.stacks)
                noops.append(took)
                out = proc.stdout + proc.stderr
                m = re.search(r"shipped (\d+ of \d+ files?[^\n]*)", out)
                shipped = m.group(1) if m else shipped
                skipped = "yes" if "compose up skipped" in out else "no"
                start = time.perf_counter()
                r = subprocess.run(ps, capture_output=True, text=True, check=False)
                raw.append(time.perf_counter() - start)
                if r.returncode != 0:
                    raise SystemExit(f"raw compose ps failed: {r.stderr[-1000:]}")
        finally:
            subprocess.run(
                [sys.executable, "-m", "lab", "-C", str(root), "destroy", "--yes"], capture_output=True, check=False
            )
    print(f"lab up --host (loopback sshd) of {' '.join(args.stacks)}")
    print(row("first run", [first]))
    print(row("no-op re-run", noops))
    print(row("raw ssh host docker compose ps", raw))
    print(
        f"{'median no-op vs raw compose ps':<40} {statistics.median(noops):.2f}s vs {statistics.median(raw):.2f}s"
        f" (target: no-op <= 5 s)"
    )
    if shipped:
        print(f"{'last no-op shipped':<40} {shipped}; compose up skipped: {skipped}")


def raw_compose_ps(port: int, key: Path, project: str) -> list[str]:
    """`ssh root@127.0.0.1 docker compose ps` of the lab's project, as a user would type it."""
    folder = f"/opt/okta-lab/{project}"
    opts = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    remote = f"cd {folder} && docker compose --env-file lab.env -p {project} -f .lab/compose.yml ps"
    return ["ssh", *opts, "-i", str(key), "-p", str(port), "root@127.0.0.1", remote]


if __name__ == "__main__":
    main()
