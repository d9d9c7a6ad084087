"""Find `docker compose` (v2 plugin) or `docker-compose` (v1), whichever exists."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from lab.errors import PreflightError, Problem
from lab.runner import Runner

NO_COMPOSE = Problem(
    "neither `docker compose` (v2) nor `docker-compose` (v1) is installed",
    "run `lab engine setup`, or install Debian's docker-compose package",
)


@dataclass(frozen=True)
class Compose:
    variant: str  # "v2" | "v1"
    version: str
    command: tuple[str, ...]


def detect_compose(runner: Runner, prefer: str | None = None) -> Compose:
    """The compose to use. `prefer` (or env LAB_COMPOSE) picks v1 or v2 when both exist."""
    prefer = prefer or os.environ.get("LAB_COMPOSE") or None
    found = [c for c in (_v2(runner), _v1(runner)) if c]
    if prefer:
        found = [c for c in found if c.variant == prefer]
        if not found:
            raise PreflightError(Problem(f"compose {prefer} is not installed (LAB_COMPOSE={prefer})", NO_COMPOSE.hint))
    if not found:
        raise PreflightError(NO_COMPOSE)
    return found[0]


def available_composes(runner: Runner) -> list[Compose]:
    return [c for c in (_v2(runner), _v1(runner)) if c]


def _v2(runner: Runner) -> Compose | None:
    if not shutil.which("docker"):
        return None
    r = runner.run(["docker", "compose", "version", "--short"], check=False)
    if not r.ok or not r.stdout.strip():
        return None
    return Compose("v2", r.stdout.strip().lstrip("v"), ("docker", "compose"))


def _v1(runner: Runner) -> Compose | None:
    if not shutil.which("docker-compose"):
        return None
    r = runner.run(["docker-compose", "version", "--short"], check=False)
    if not r.ok:
        return None
    m = re.search(r"(\d+\.\d+\.\d+)", r.stdout)
    version = m.group(1) if m else r.stdout.strip()
    if version.startswith("2."):
        return Compose("v2", version, ("docker-compose",))
    return Compose("v1", version, ("docker-compose",))
