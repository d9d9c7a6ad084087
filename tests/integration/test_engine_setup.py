"""`lab engine setup` on a fresh Debian machine: a container from the base image plays the machine.

Unprivileged containers cannot run dockerd, so the machine reaches the host's engine through its
mounted socket once the Docker CLI is installed; starting dockerd in the background is exercised by
`.ci/run` itself on the CI machine, where no engine runs when it starts.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from lab import RESOURCES

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGE = "okta-lab/test-fresh-debian:1"
DOCKERFILE = """\
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      python3 python3-venv python3-pip ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*
"""


def sh(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def machine(docker_engine: None) -> Iterator[str]:
    if sh("docker", "image", "inspect", IMAGE).returncode != 0:
        build = subprocess.run(["docker", "build", "--force-rm", "-q", "-t", IMAGE, "-"], input=DOCKERFILE, text=True,
                               capture_output=True, check=False)  # fmt: skip
        assert build.returncode == 0, build.stderr
    name = f"lab-fresh-{uuid.uuid4().hex[:8]}"
    run = sh("docker", "run", "-d", "--init", "--name", name, "-v", f"{RESOURCES}:/src:ro",
             "-v", "/var/run/docker.sock:/var/run/docker.sock",
             # this network may intercept TLS: trust what the host trusts, for pip
             "-v", "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/host-ca.crt:ro",
             "-e", "PIP_CERT=/etc/ssl/host-ca.crt",
             IMAGE, "sleep", "3600")  # fmt: skip
    assert run.returncode == 0, run.stderr
    install = sh("docker", "exec", name, "sh", "-c",
                 "mkdir /opt/src && cd /src && tar --exclude=.venv --exclude=.git --exclude=data "
                 "--exclude=.lab -cf - . | tar -C /opt/src -xf - "
                 "&& python3 -m venv /opt/v && /opt/v/bin/pip install -q /opt/src")  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    yield name
    sh("docker", "rm", "-f", name)


def lab_in(machine: str, *args: str, env: str = "") -> subprocess.CompletedProcess[str]:
    return sh("docker", "exec", machine, "sh", "-c", f"cd /root && {env} /opt/v/bin/lab {' '.join(args)}")


def test_fresh_machine_gets_engine_composes_and_debootstrap(machine: str) -> None:
    missing = sh("docker", "exec", machine, "sh", "-c", "command -v docker dockerd docker-compose debootstrap || true")
    assert missing.stdout.strip() == "", "the machine must start without Docker"
    proc = lab_in(machine, "engine", "setup")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "installing docker.io, docker-compose, debootstrap from the distribution" in proc.stderr
    assert "adding the compose v2 plugin" in proc.stderr
    v1 = sh("docker", "exec", machine, "docker-compose", "version", "--short")
    v2 = sh("docker", "exec", machine, "docker", "compose", "version", "--short")
    assert v1.returncode == 0 and v1.stdout.startswith("1."), v1.stderr
    assert v2.returncode == 0 and v2.stdout.strip().startswith("2."), v2.stderr


def test_second_setup_does_nothing(machine: str) -> None:
    proc = lab_in(machine, "engine", "setup", "--both-composes")
    assert proc.returncode == 0, proc.stderr
    assert "engine already set up: nothing to do" in proc.stdout
