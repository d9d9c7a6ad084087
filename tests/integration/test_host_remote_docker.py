"""This machine over SSH on 127.0.0.1 as the remote Docker host: prepare, `lab up --host`, tunnels.

Docker is already installed here, so `prepare-docker` proves idempotence (no change) rather than a
fresh install; the lab runs on the "remote" loopback and is reached through the printed tunnel.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.sshd import LocalSshd, local_sshd
from tests.hosts.testhost import free_port, port_keys, require_docker, write_lab

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def lab(directory: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSshd]:
    require_docker()
    with local_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def remote_lab(sshd: LocalSshd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = f"remote{free_port()}"
    ports = {k: str(free_port()) for k in port_keys()}
    d = write_lab(
        tmp_path_factory.mktemp("remote"),
        f"[docker]\n{sshd.inventory_line('ci')}\n",
        LAB_BIND="127.0.0.1",
        LAB_PROJECT=project,
        **ports,
    )
    try:
        yield d
    finally:
        lab(d, "down")
        shutil.rmtree(f"/opt/okta-lab/{project}", ignore_errors=True)


def test_prepare_docker_is_idempotent(sshd: LocalSshd, tmp_path: Path) -> None:
    spec = f"root@127.0.0.1:{sshd.port}"
    first = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(sshd.key_file))
    assert first.returncode == 0, first.stderr
    second = lab(tmp_path, "host", "prepare-docker", spec, "-k", str(sshd.key_file))
    assert second.returncode == 0, second.stderr
    assert "Docker ready (0 change(s)" in second.stdout
    assert "Docker 2" in second.stdout  # the engine answered with its version


def test_prepare_docker_without_access_is_one_clear_line(sshd: LocalSshd, tmp_path: Path) -> None:
    r = lab(tmp_path, "host", "prepare-docker", f"root@127.0.0.1:{sshd.port}")  # no key
    assert r.returncode == 1
    assert "SSH authentication failed" in r.stderr and "Traceback" not in r.stderr


def test_up_on_remote_host_then_verify_through_the_tunnel(remote_lab: Path, sshd: LocalSshd) -> None:
    up = lab(remote_lab, "up", "ldap", "--host", "ci")
    assert up.returncode == 0, up.stdout + up.stderr
    again = lab(remote_lab, "host", "docker-up", "ci", "ldap")
    assert again.returncode == 0, again.stderr
    tunnels = [line.strip() for line in again.stdout.splitlines() if line.strip().startswith("ssh -N")]
    assert tunnels and "# ldap-ui" in tunnels[0]
    verify = lab(remote_lab, "verify", "ldap")
    assert verify.returncode == 0, verify.stdout[-2000:]
    # The printed tunnel works: run it with a free local port (the remote port is on this machine).
    local = free_port()
    argv = shlex.split(tunnels[0].split("#")[0])
    argv[argv.index("-L") + 1] = re.sub(r"^\d+:", f"{local}:", argv[argv.index("-L") + 1])
    argv[1:1] = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]
    tunnel = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status = _http_status(f"http://127.0.0.1:{local}/", timeout=20)
        assert status in (200, 401)
    finally:
        tunnel.terminate()


def _http_status(url: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback only
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
