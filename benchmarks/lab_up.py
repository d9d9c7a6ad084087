"""Wall time of `lab up` cold (base image only), warm (images built), no-op, and `lab down`.

Usage: python benchmarks/lab_up.py [--runs N] [--service openldap]
"""

from __future__ import annotations

import argparse

from _common import lab, new_lab, row, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--service", default="openldap")
    args = parser.parse_args()
    svc = args.service
    root = new_lab(["ldap"], {"LAB_STACKS": "ldap"})

    cold, warm, noop, down = [], [], [], []
    for _ in range(args.runs):
        lab(root, "destroy", "--yes")
        # cold: the image is built from the base image with no build cache, and started on no data
        cold.append(timed(lambda: lab(root, "up", "--rebuild", svc)))
        noop.append(timed(lambda: lab(root, "up", svc)))
        down.append(timed(lambda: lab(root, "down")))
        lab(root, "destroy", "--yes")
        warm.append(timed(lambda: lab(root, "up", svc)))
    lab(root, "destroy", "--yes")

    print(f"lab up / down of {svc} ({args.runs} runs each, one session)")
    print(row("lab up cold (base image only)", cold))
    print(row("lab up warm (images built, no data)", warm))
    print(row("lab up no-op (nothing changed)", noop))
    print(row("lab down", down))
    print(f"{'ratio cold / no-op':<40} {sorted(cold)[len(cold) // 2] / sorted(noop)[len(noop) // 2]:8.1f}x")


if __name__ == "__main__":
    main()
