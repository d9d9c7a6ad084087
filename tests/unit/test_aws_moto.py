"""A moto server on 127.0.0.1 for the `lab aws` tests, and a guard against any other address.

moto runs as its own process (`python -m moto.server`) so that it loads the Ubuntu images these
tests seed (MOTO_AMIS_PATH: Canonical-owned 24.04 images plus a newer look-alike of another owner).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CANONICAL = "099720109477"
NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-{}"


def _ami(ami_id: str, name: str, owner: str, date: str) -> dict[str, object]:
    return {
        "ami_id": ami_id,
        "name": name,
        "description": "Canonical, Ubuntu, 24.04, amd64 noble image",
        "owner_id": owner,
        "public": True,
        "virtualization_type": "hvm",
        "architecture": "x86_64",
        "state": "available",
        "platform": None,
        "image_type": "machine",
        "image_location": f"{owner}/{name}",
        "root_device_type": "ebs",
        "root_device_name": "/dev/sda1",
        "sriov": "simple",
        "hypervisor": "xen",
        "creation_date": date,
    }


#: the image `lab aws host create` must pick: the newest Canonical one
LATEST = "ami-0c0ffee0000000002"
AMIS = [
    _ami("ami-0c0ffee0000000001", NAME.format("20250110"), CANONICAL, "2025-01-10T00:00:00.000Z"),
    _ami(LATEST, NAME.format("20251105"), CANONICAL, "2025-11-05T00:00:00.000Z"),
    _ami("ami-0badbad00000000003", NAME.format("20261201"), "111122223333", "2026-12-01T00:00:00.000Z"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server(directory: Path) -> Iterator[str]:
    amis = directory / "amis.json"
    amis.write_text(json.dumps(AMIS))
    port = free_port()
    env = {**os.environ, "MOTO_AMIS_PATH": str(amis)}
    log = (directory / "moto.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)  # noqa: S310 - loopback
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto server did not start: {(directory / 'moto.log').read_text()[-800:]}")
            time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def reset(url: str) -> None:
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()  # noqa: S310 - loopback


def aws_env(url: str, region: str = "eu-south-1") -> dict[str, str]:
    """Fake credentials, the region, and every AWS call sent to moto."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any TCP connect or name lookup other than to/of the loopback fails the test."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kw: object) -> object:
        if host not in ("127.0.0.1", "::1", "localhost", None):
            attempts.append(host)
            raise AssertionError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_guard_blocks_other_addresses(loopback_only: list[object]) -> None:
    with socket.socket() as s, pytest.raises(AssertionError):
        s.connect(("192.0.2.1", 443))
    with pytest.raises(AssertionError):
        socket.getaddrinfo("ec2.eu-south-1.amazonaws.com", 443)
    assert len(loopback_only) == 2
