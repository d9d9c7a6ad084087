"""A no-op `lab up` against a raw `docker compose up -d` of the same rendered project, in one run.

The lab is brought up once; then the two commands alternate, `--runs` times each, so both see the
same machine load. The target (issue 11): the lab's median at most 1.5x compose's.

Usage: python benchmarks/noop_up.py [--runs N] [--service openldap]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from _common import lab, median, new_lab, row, timed

from lab.config import LabConfig
from lab.state import LabState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--service", default="openldap")
    args = parser.parse_args()
    svc = args.service
    root = new_lab(["ldap"], {"LAB_STACKS": "ldap"})
    try:
        lab(root, "up", svc)
        config = LabConfig.from_env(root / ".env")
        state = LabState.from_dict(json.loads((root / ".lab" / "lab.json").read_text()))
        variant = state.compose_variant or "v2"
        command = ["docker", "compose"] if variant == "v2" else ["docker-compose"]
        raw = [*command, "-p", config.core.project, "-f", str(root / ".lab" / "compose.yml"), "up", "-d", svc]
        env = {**os.environ, **config.env_values()}  # what lab gives compose to interpolate

        def compose() -> None:
            subprocess.run(raw, env=env, cwd=root, check=True, capture_output=True)

        def noop() -> None:
            out = lab(root, "up", svc).stdout
            if "nothing changed" not in out:
                raise SystemExit(f"lab up was not answered as a no-op:\n{out}")

        compose()
        noop()  # warm both once (page cache)
        labs, raws = [], []
        for _ in range(args.runs):
            raws.append(timed(compose))
            labs.append(timed(noop))
    finally:
        lab(root, "destroy", "--yes")

    print(f"no-op up of {svc}, compose {variant} ({state.compose}), {args.runs} runs each, alternating")
    print(row("docker compose up -d (raw)", raws))
    print(row("lab up (nothing changed)", labs))
    ratio = median(labs) / median(raws)
    print(f"{'ratio lab / raw':<40} {ratio:8.2f}x  (target <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'})")
    sys.exit(0 if ratio <= 1.5 else 1)


if __name__ == "__main__":
    main()
