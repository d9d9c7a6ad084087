"""Remote Docker host: wall time of `lab up --host` against this machine over SSH (127.0.0.1).

A private sshd (tests/hosts/sshd.py) plays the remote host; the lab gets free loopback ports and
its own project name. Prints the first run (images built when missing, everything shipped) and
the no-op re-runs (nothing changed: nothing shipped, built or recreated), then destroys the lab.

    .venv/bin/python benchmarks/host_up_remote.py [--runs N] [STACK...]     # default: ldap jdbc viewer
"""

from __future__ import annotations

import argparse
import re
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
            shipped = ""
            for _ in range(args.runs):
                took, proc = lab(root, "-v", "up", "--host", "bench", *args.stacks)
                noops.append(took)
                m = re.search(r"shipped (\d+ of \d+ files?[^\n]*)", proc.stdout + proc.stderr)
                shipped = m.group(1) if m else shipped
        finally:
            subprocess.run(
                [sys.executable, "-m", "lab", "-C", str(root), "destroy", "--yes"], capture_output=True, check=False
            )
    print(f"lab up --host (loopback sshd) of {' '.join(args.stacks)}")
    print(row("first run", [first]))
    print(row("no-op re-run", noops))
    if shipped:
        print(f"{'last no-op shipped':<40} {shipped}")


if __name__ == "__main__":
    main()
