"""Find `docker compose` (v2 plugin) or `docker-compose` (v1), whichever exists where the runner runs.

The probes are queries: they run in a dry run too, so the commands shown are the right variant's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from lab.errors import PreflightError, Problem
from lab.runner import CommandRunner

NO_COMPOSE = Problem(
    "neither `docker compose` (v2) nor `docker-compose` (v1) is installed",
    "run `lab engine setup`, or install Debian's docker-compose package",
)


@dataclass(frozen=True)
class Compose:
    variant: str  # "v2" | "v1"
    version: str
    command: tuple[str, ...]


def detect_compose(runner: CommandRunner, prefer: str | None = None) -> Compose:
    """The compose to use, probing as few as needed (a no-op `lab up` stays cheap).

    Env LAB_COMPOSE=v1|v2 insists on one; `prefer` (the variant that started the lab) only
    orders the probes.
    """
    forced = os.environ.get("LAB_COMPOSE") or None
    order = (_v1, _v2) if (forced or prefer) == "v1" else (_v2, _v1)
    for probe in order:
        found = probe(runner)
        if found and (not forced or found.variant == forced):
            return found
    if forced:
        raise PreflightError(Problem(f"compose {forced} is not installed (LAB_COMPOSE={forced})", NO_COMPOSE.hint))
    raise PreflightError(NO_COMPOSE)


def available_composes(runner: CommandRunner) -> list[Compose]:
    """Every compose installed, v2 first."""
    return [c for c in (_v2(runner), _v1(runner)) if c]


def _v2(runner: CommandRunner) -> Compose | None:
    r = runner.query(["docker", "compose", "version", "--short"], timeout=60)
    if not r.ok or not r.stdout.strip():
        return None
    return Compose("v2", r.stdout.strip().lstrip("v"), ("docker", "compose"))


def _v1(runner: CommandRunner) -> Compose | None:
    r = runner.query(["docker-compose", "version", "--short"], timeout=60)
    if not r.ok:
        return None
    m = re.search(r"(\d+\.\d+\.\d+)", r.stdout)
    version = m.group(1) if m else r.stdout.strip()
    if version.startswith("2."):
        return Compose("v2", version, ("docker-compose",))
    return Compose("v1", version, ("docker-compose",))
