"""Helpers shared by the benchmark scripts: temporary labs and timing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import init_lab  # noqa: E402  (a lab on free loopback ports)


def lab(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "lab", "-C", str(root), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"lab {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def new_lab(stacks: list[str], env: dict[str, str] | None = None) -> Path:
    return init_lab(Path(tempfile.mkdtemp(prefix="lab-bench-")), stacks, env)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def row(name: str, values: list[float], unit: str = "s") -> str:
    spread = f"n={len(values)}, min {min(values):.3f}, max {max(values):.3f}"
    return f"{name:<40} median {median(values):8.3f}{unit}  ({spread})"
