"""Remote Docker host: `lab host prepare-docker` time against this machine over SSH (127.0.0.1).

Docker is already installed here, so this measures the check-and-converge path (apt cache refresh
at most, then no change), first and second run.

    .venv/bin/python benchmarks/host_prepare_docker.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hosts.sshd import local_sshd  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lab-bench-prep-"))
    with local_sshd(work) as sshd:
        for run in ("first", "second"):
            start = time.perf_counter()
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "lab",
                    "-C",
                    str(work),
                    "host",
                    "prepare-docker",
                    f"root@127.0.0.1:{sshd.port}",
                    "-k",
                    str(sshd.key_file),
                ],  # fmt: skip
                capture_output=True,
                text=True,
                check=False,
            )
            took = time.perf_counter() - start
            if proc.returncode != 0:
                raise SystemExit(proc.stderr)
            print(f"prepare-docker {run:<6} {took:5.1f}s  {proc.stdout.strip().splitlines()[0]}")


if __name__ == "__main__":
    main()
