"""`lab aws host create` against moto, then `lab up --host NAME` on the host it recorded.

moto's instances have fake public IPs, so the created host's SSH address is pointed at a local
sshd on 127.0.0.1 (`LAB_AWS_SSH_ADDRESS_OVERRIDE`, tests/hosts/sshd.py) that accepts the key pair
moto generated — as cloud-init would on a real instance. `create` waits for SSH and pins the host
key there; `lab up --host NAME` then finds NAME through the inventory block `lab aws` wrote and
starts the OpenLDAP service on this machine, over SSH. No connection goes anywhere but 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.sshd import LocalSshd, local_sshd
from tests.hosts.testhost import free_port, port_keys, require_docker
from tests.unit.test_aws_hosts import lab as lab_inproc
from tests.unit.test_aws_moto import aws_env, loopback_only, moto_server  # noqa: F401

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSshd]:
    require_docker()
    with local_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


def test_create_then_up_on_the_created_host(
    sshd: LocalSshd,
    moto: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    loopback_only: list[object],  # noqa: F811
) -> None:
    from lab.envfile import generate_secret, secret_lengths, write_env

    project = f"aws{free_port()}"
    values = {k: generate_secret(n) for k, n in secret_lengths().items()}
    values.update({k: str(free_port()) for k in port_keys()})
    values.update({"LAB_PROJECT": project, "LAB_STACKS": "ldap"})
    write_env(tmp_path / ".env", force=True, overrides=values)
    for k, v in aws_env(moto).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LAB_AWS_SSH_ADDRESS_OVERRIDE", f"127.0.0.1:{sshd.port}")
    monkeypatch.setenv("AWS_SSH_TIMEOUT", "30")

    # The key pair only exists once create runs: accept it on the sshd as soon as it is saved,
    # as cloud-init does on a real instance, from a thread watching for the file.
    import threading
    import time

    authorized = sshd.key_file.parent / "authorized_keys"
    pem = tmp_path / ".lab/aws/keys/lab1.pem"
    stop = threading.Event()

    def install_key() -> None:
        while not stop.is_set():
            if pem.is_file() and pem.stat().st_size:
                pub = subprocess.run(["ssh-keygen", "-y", "-f", str(pem)], capture_output=True, text=True)
                if pub.returncode == 0:
                    with authorized.open("a") as fh:
                        fh.write(pub.stdout)
                    return
            time.sleep(0.05)

    watcher = threading.Thread(target=install_key, daemon=True)
    watcher.start()
    try:
        code, out = lab_inproc(tmp_path, "aws", "host", "create", "lab1", "--ssh-from", "203.0.113.7")
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert code == 0, out
    assert not loopback_only
    record = json.loads((tmp_path / ".lab/aws/hosts.json").read_text())["hosts"]["lab1"]
    assert record["ssh_address"] == "127.0.0.1" and record["ssh_port"] == sshd.port
    assert record["public_ip"] and record["public_ip"] != "127.0.0.1"  # moto's, never contacted
    assert record["host_key"].startswith("ssh-ed25519 ")
    pinned = (tmp_path / ".lab/host/known_hosts").read_text()
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in pinned

    remote_dir = f"/opt/okta-lab/{project}"
    try:
        up = subprocess.run(
            [sys.executable, "-m", "lab", "-C", str(tmp_path), "up", "--host", "lab1", "openldap"],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        assert up.returncode == 0, (up.stdout + up.stderr)[-3000:]
        assert f"lab is up on lab1 (root@127.0.0.1:{sshd.port})" in up.stdout
        assert "openldap" in up.stdout
        # stop and start again: start waits for SSH with the key pinned at creation
        assert lab_inproc(tmp_path, "aws", "host", "stop", "lab1")[0] == 0
        code, out = lab_inproc(tmp_path, "aws", "host", "start", "lab1")
        assert code == 0, out
        assert f"waiting for SSH on 127.0.0.1:{sshd.port}" in out
        assert (tmp_path / ".lab/host/known_hosts").read_text() == pinned  # same key, nothing re-pinned
        assert not loopback_only
    finally:
        compose = shutil.which("docker-compose") or "docker-compose"
        subprocess.run(
            [compose, "-p", project, "-f", f"{remote_dir}/.lab/compose.yml", "down", "-v", "--remove-orphans"],
            capture_output=True, check=False, cwd=remote_dir if Path(remote_dir).is_dir() else None,
        )  # fmt: skip
        shutil.rmtree(remote_dir, ignore_errors=True)
