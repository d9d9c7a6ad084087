"""Fixtures shared by unit and integration tests.

`make_lab` creates real labs in temporary project directories. With `CI` set, a missing Docker
engine fails every docker test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab import RESOURCES
from lab.config import LabConfig

PORT_KEY = re.compile(r"^([A-Z0-9_]*PORT)=\d+$", re.M)


def engine_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=10).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False


def require_docker() -> None:
    """Return when an engine answers; otherwise fail with CI set, skip without it."""
    if engine_available():
        return
    if os.environ.get("CI"):
        pytest.fail("no Docker engine answers, and CI is set: docker tests must run (see .ci/run)")
    pytest.skip("no Docker engine (set CI=1 to make this a failure)")


@pytest.fixture(scope="session")
def docker_engine() -> None:
    require_docker()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lab_cli(
    root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run the real `lab` command in `root`."""
    proc = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(root), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"lab {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@dataclass
class LabHandle:
    dir: Path
    env: dict[str, str] = field(default_factory=dict)  # process environment (e.g. LAB_COMPOSE)

    @property
    def cfg(self) -> LabConfig:
        return LabConfig.from_env(self.dir / ".env")

    def run(self, *args: str, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return lab_cli(self.dir, *args, env=self.env, check=check, timeout=timeout)

    def up(self, *names: str) -> subprocess.CompletedProcess[str]:
        return self.run("up", *names)

    def verify(self, *names: str) -> subprocess.CompletedProcess[str]:
        return self.run("verify", *names)

    def destroy(self) -> None:
        self.run("destroy", "--yes", check=False, timeout=600)


def init_lab(root: Path, stacks: list[str], env: dict[str, str] | None = None) -> Path:
    """A project directory with a generated .env on free loopback ports and a unique project name."""
    root.mkdir(parents=True, exist_ok=True)
    example = (RESOURCES / ".env.example").read_text()
    overrides = {key: str(free_port()) for key in PORT_KEY.findall(example)}
    overrides.update({"LAB_PROJECT": f"t{uuid.uuid4().hex[:8]}", "LAB_STACKS": ",".join(stacks)})
    overrides.update(env or {})
    lab_cli(root, "init", *[f"--set={k}={v}" for k, v in overrides.items()])
    return root


@pytest.fixture(scope="session")
def make_lab(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> Iterator:  # type: ignore[type-arg]
    created: list[LabHandle] = []

    def factory(
        stacks: list[str],
        env: dict[str, str] | None = None,
        *,
        up: bool = True,
        process_env: dict[str, str] | None = None,
        name: str = "lab",
    ) -> LabHandle:
        root = init_lab(tmp_path_factory.mktemp(name), stacks, env)
        handle = LabHandle(root, dict(process_env or {}))
        created.append(handle)
        if up:
            handle.up()
        return handle

    yield factory
    for handle in created:
        handle.destroy()
