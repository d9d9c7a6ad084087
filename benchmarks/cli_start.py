"""`lab --help` start-up time against a bare Python start, side by side (issue 11 target: <= 0.3 s).

    python benchmarks/cli_start.py [--runs N]

Prints the median and p95 of each, and the difference: what loading the CLI itself costs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import median, pct, timed


def run(args: list[str]) -> None:
    subprocess.run(args, capture_output=True, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    opts = parser.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "lab --help": [sys.executable, "-m", "lab", "--help"],
        "lab up --help": [sys.executable, "-m", "lab", "up", "--help"],
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(opts.runs):  # interleaved, so both see the same machine
        for name, argv in cases.items():
            results[name].append(timed(lambda argv=argv: run(argv)))  # type: ignore[misc]
    base = median(results["python -c pass"])
    print(f"{'command':<16} {'p50 s':>7} {'p95 s':>7} {'minus python':>13}")
    for name, values in results.items():
        print(f"{name:<16} {median(values):7.3f} {pct(values, 95):7.3f} {median(values) - base:13.3f}")
    print(f"target: lab --help p50 <= 0.300 s -> {'met' if median(results['lab --help']) <= 0.3 else 'MISSED'}")


if __name__ == "__main__":
    main()
