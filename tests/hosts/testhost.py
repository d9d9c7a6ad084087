"""Start and stop systemd "bare host" containers for the native-target tests.

The image (tests/hosts/Dockerfile) is built FROM the local base image; containers run
unprivileged (cgroup bind-mount read-only, tmpfs /run), publish SSH and the lab's ports on
127.0.0.1 only, and accept one key generated per test session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_docker  # noqa: F401  (re-exported for the host tests)

HERE = Path(__file__).resolve().parent
IMAGE = "okta-lab/testhost:bookworm"
LABEL = "okta-lab.test=host"
#: Unique to this test session: whatever cleans up filters by it, never by the shared LABEL.
SESSION_LABEL = f"okta-lab.test.session={uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class TestHost:
    __test__ = False  # not a pytest test class

    name: str
    ssh_port: int
    key_file: Path

    def inventory_line(self, alias: str = "") -> str:
        return (
            f"{alias or self.name} ansible_host=127.0.0.1 ansible_port={self.ssh_port} "
            f"ansible_user=root ansible_ssh_private_key_file={self.key_file}"
        )

    def exec(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "exec", self.name, *cmd], capture_output=True, text=True, check=False)

    def add_sudo_user(self, name: str, password: str | None = None) -> SudoUser:
        """Create a non-root login `name` that reaches root through sudo, as on Ubuntu cloud images.

        password=None: passwordless sudo (`NOPASSWD: ALL`, like the `ubuntu` user of cloud images);
        otherwise the account's password is `password`, the user is in group `sudo` (Debian's
        `%sudo ALL=(ALL:ALL) ALL`), and sudo asks for the password. Either way the user logs in
        over SSH with this host's key (root's key file), never with a password. Returns the user,
        whose `inventory_line()` is the one to put in an inventory; idempotent per name.
        """
        if password is None:  # a NOPASSWD rule of its own, as cloud-init writes for `ubuntu`
            rule = f"{name} ALL=(ALL:ALL) NOPASSWD: ALL"
            sudo = (
                f"printf '%s\\n' '{rule}' > /etc/sudoers.d/90-{name}; chmod 440 /etc/sudoers.d/90-{name}; "
                f"visudo -cq -f /etc/sudoers.d/90-{name}"
            )
        else:
            sudo = f"usermod -aG sudo {name}"
        return self.add_user(name, password, sudo_script=sudo)

    def add_user(self, name: str, password: str | None = None, *, sudo_script: str = "") -> SudoUser:
        """A non-root SSH login (this host's key) with no sudo at all, unless `sudo_script` grants it."""
        pub = self.key_file.with_suffix(".pub").read_text().strip()
        script = (
            "set -e; "
            f"id -u {name} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {name}; "
            f"install -d -m 700 -o {name} -g {name} /home/{name}/.ssh; "
            f"printf '%s\\n' '{pub}' > /home/{name}/.ssh/authorized_keys; "
            f"chown {name}:{name} /home/{name}/.ssh/authorized_keys; chmod 600 /home/{name}/.ssh/authorized_keys"
            + (f"; {sudo_script}" if sudo_script else "")
        )
        r = self.exec("sh", "-c", script)
        if r.returncode != 0:
            pytest.fail(f"cannot add user {name} to {self.name}: {r.stderr.strip() or r.stdout.strip()}")
        if password is None:
            r = self.exec("usermod", "--password", "*", name)  # key login only; no password to guess
        else:
            r = subprocess.run(
                ["docker", "exec", "-i", self.name, "chpasswd"],
                input=f"{name}:{password}\n",
                capture_output=True,
                text=True,
                check=False,
            )
        if r.returncode != 0:
            pytest.fail(f"cannot set the password of {name} on {self.name}: {r.stderr.strip()}")
        return SudoUser(host=self, name=name, password=password)

    def remove(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False)


@dataclass(frozen=True)
class SudoUser:
    """A non-root login on a TestHost (`TestHost.add_sudo_user`, or `add_user`: no sudo)."""

    __test__ = False

    host: TestHost
    name: str
    password: str | None  # the account's password (None: none; passwordless sudo if any)

    @property
    def key_file(self) -> Path:
        return self.host.key_file

    @property
    def ssh_port(self) -> int:
        return self.host.ssh_port

    def inventory_line(self, alias: str = "", **extra: str) -> str:
        """An inventory line for this user; `extra` adds host vars (e.g. ansible_become_password_file)."""
        line = (
            f"{alias or self.host.name} ansible_host=127.0.0.1 ansible_port={self.host.ssh_port} "
            f"ansible_user={self.name} ansible_ssh_private_key_file={self.host.key_file}"
        )
        return line + "".join(f" {k}={v}" for k, v in extra.items())

    def sudo(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        """Run `cmd` on the host as this user through `sudo -S` (its password on stdin, if it has one)."""
        return subprocess.run(
            ["docker", "exec", "-i", "-u", self.name, self.host.name, "sudo", "-S", "-p", "", *cmd],
            input=f"{self.password}\n" if self.password is not None else "",
            capture_output=True,
            text=True,
            check=False,
        )


def build_image() -> str:
    base = os.environ.get("LAB_BASE_IMAGE", "debian:bookworm-slim")
    proc = subprocess.run(
        ["docker", "build", "--force-rm", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", IMAGE, str(HERE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"cannot build the test host image:\n{proc.stderr[-2000:]}")
    return IMAGE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_key(directory: Path) -> Path:
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab-test", "-f", str(key)],
            check=True,
        )
    return key


def start_host(key: Path, ports: Iterable[int] = (), *, timeout: float = 60) -> TestHost:
    """Run one test host; `ports` are published 127.0.0.1:P -> P (the lab's service ports)."""
    name = f"lab-testhost-{uuid.uuid4().hex[:8]}"
    ssh_port = free_port()
    args = [
        "docker", "run", "-d", "--name", name, "--hostname", name.removeprefix("lab-"),
        "--label", LABEL, "--label", SESSION_LABEL,
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-p", f"127.0.0.1:{ssh_port}:22",
    ]  # fmt: skip
    for p in ports:
        args += ["-p", f"127.0.0.1:{p}:{p}"]
    proc = subprocess.run([*args, IMAGE], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"cannot start a test host: {proc.stderr.strip()}")
    host = TestHost(name=name, ssh_port=ssh_port, key_file=key)
    pub = key.with_suffix(".pub").read_text()
    deadline = time.monotonic() + timeout
    while True:
        r = host.exec(
            "sh",
            "-c",
            f"umask 077; mkdir -p /root/.ssh; printf '%s' '{pub.strip()}' "
            "> /root/.ssh/authorized_keys; systemctl is-active ssh",
        )
        if r.stdout.strip() == "active" and _ssh_ok(host):
            return host
        if time.monotonic() > deadline:
            logs = subprocess.run(
                ["docker", "logs", "--tail", "30", name],
                capture_output=True,
                text=True,
                check=False,
            )
            host.remove()
            pytest.fail(f"test host {name} did not get SSH ready in {timeout}s: {r.stdout}{r.stderr}{logs.stdout}")
        time.sleep(0.5)


def _ssh_ok(host: TestHost) -> bool:
    r = subprocess.run(
        [
            "ssh",
            "-i",
            str(host.key_file),
            "-p",
            str(host.ssh_port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=5",
            "root@127.0.0.1",
            "true",
        ],  # fmt: skip
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def write_lab(directory: Path, inventory: str, **env: str) -> Path:
    """A project folder: `.env` (generated secrets, LAB_BIND=0.0.0.0) + inventory."""
    from lab.envfile import generate_secret, secret_lengths, write_env

    directory.mkdir(parents=True, exist_ok=True)
    values = {k: generate_secret(n) for k, n in secret_lengths().items() if "_S3_" not in k}
    values.update({"LAB_BIND": "0.0.0.0", **env})
    write_env(directory / ".env", force=True, overrides=values)
    (directory / "inventory.ini").write_text(inventory)
    return directory


def lab_ports(env_file: Path) -> list[int]:
    """Every port the config publishes (the host publishes them 1:1 on 127.0.0.1)."""
    from lab.config import LabConfig

    cfg = LabConfig.from_env(env_file)
    out = []
    for _, section in cfg.section_items():
        for name, f in type(section).model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            if extra.get("port"):
                out.append(int(getattr(section, name)))
    return sorted(set(out))


def free_port_overrides(env_example_keys: Iterable[str]) -> dict[str, str]:
    return {k: str(free_port()) for k in env_example_keys}


def port_keys() -> list[str]:
    from lab.config import SECTION_TYPES

    keys = []
    for section in SECTION_TYPES.values():
        for name, f in section.model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            if extra.get("port"):
                keys.append(f.alias or name)
    return keys


#: Roles that copy the okta-lab source to the host (`<role>_source_dir`, default: the checkout).
SOURCE_ROLES = ("viewer", "scim")


def snapshot_sources(directory: Path) -> Path:
    """A frozen copy of what the source-copying roles ship (lab/, pyproject.toml, README.md).

    Other engineers edit the working tree while tests run; converging from a snapshot keeps the
    idempotence gate about the roles, not about edits made between the two runs.
    """
    import shutil

    from lab import RESOURCES

    dest = directory / "source"
    if not dest.exists():
        shutil.copytree(RESOURCES / "lab", dest / "lab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(RESOURCES / name, dest / name)
    return dest


def pin_sources(group_vars_dir: Path, snapshot: Path) -> None:
    """Point the source-copying roles at `snapshot` (an extra file in `.lab/host/group_vars/all/`)."""
    import yaml

    text = yaml.safe_dump({f"{role}_source_dir": str(snapshot) for role in SOURCE_ROLES})
    (group_vars_dir / "test-sources.yml").write_text(f"# written by the test harness\n{text}")
