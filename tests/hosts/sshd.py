"""This machine as a remote host: a private sshd on a 127.0.0.1 port, key-only, for one test run.

Installs openssh-server from the distribution when it is missing (root, as in CI); the daemon is
started with its own host key and authorized_keys and stopped at the end, so the machine's own
SSH configuration is neither used nor changed.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hosts.testhost import free_port, make_key

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class LocalSshd:
    port: int
    key_file: Path

    def inventory_line(self, alias: str = "ci") -> str:
        return (
            f"{alias} ansible_host=127.0.0.1 ansible_port={self.port} ansible_user=root "
            f"ansible_ssh_private_key_file={self.key_file}"
        )


def ensure_openssh_server() -> None:
    if Path(SSHD).exists():
        return
    if not shutil.which("apt-get"):
        pytest.fail("openssh-server is needed (sshd on 127.0.0.1) and apt-get is not available")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "openssh-server"]):
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        if r.returncode != 0:
            pytest.fail(f"cannot install openssh-server: {r.stderr[-500:]}")


@contextmanager
def local_sshd(directory: Path, options: Sequence[str] = ()) -> Iterator[LocalSshd]:
    """`options`: extra sshd `-o` settings, e.g. `SetEnv=DOCKER_HOST=unix:///nowhere` (an engine
    that does not answer for SSH sessions, while the machine's own engine keeps running)."""
    ensure_openssh_server()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    key = make_key(directory)
    host_key = directory / "ssh_host_ed25519_key"
    if not host_key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
    authorized = directory / "authorized_keys"
    authorized.write_text(key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    port = free_port()
    proc = subprocess.Popen(
        [
            SSHD,
            "-D",
            "-e",
            *[a for o in options for a in ("-o", o)],  # first: the first value of a setting wins
            "-p",
            str(port),
            "-o",
            "ListenAddress=127.0.0.1",
            "-o",
            f"HostKey={host_key}",
            "-o",
            f"AuthorizedKeysFile={authorized}",
            "-o",
            f"PidFile={directory / 'sshd.pid'}",
            "-o",
            "StrictModes=no",
            "-o",
            "PermitRootLogin=prohibit-password",
            "-o",
            "PasswordAuthentication=no",
            "-o",
            "KbdInteractiveAuthentication=no",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=(directory / "sshd.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 15
        while subprocess.run(
            [
                "ssh",
                "-i",
                str(key),
                "-p",
                str(port),
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "root@127.0.0.1",
                "true",
            ],  # fmt: skip
            capture_output=True,
            check=False,
        ).returncode:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"local sshd did not start: {(directory / 'sshd.log').read_text()[-800:]}")
            time.sleep(0.3)
        yield LocalSshd(port=port, key_file=key)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
