"""The Docker target on a remote host: prepare it with pyinfra, ship the rendered lab, start it.

`RemoteDockerTarget` is the local Docker target's compose logic (`ComposeTarget`) run through an
`SshRunner`: the same compose detection, builds, health wait and logs, plus `deliver` (copy the
rendered files, only those that differ) and the removal of the lab's folder on `destroy`.
Services stay bound to the remote loopback (LAB_BIND); `lab` prints the SSH tunnel commands that
bring each UI to this machine.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import PreflightError, Problem, TargetError, UsageError
from lab.host.inventory import SshTarget, load_inventory
from lab.state import DockerRemote, TargetRecord
from lab.targets.compose import Compose, detect_compose
from lab.targets.docker import ComposeTarget

if TYPE_CHECKING:
    import paramiko

    from lab.host.ssh import SshRunner

_HOST = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9.:_-]+?)(?::(?P<port>\d+))?$")
#: compose package per distribution (Debian 12 ships compose v1; Ubuntu 24.04 the v2 plugin).
_COMPOSE_PACKAGE = {"debian": "docker-compose", "ubuntu": "docker-compose-v2"}
REMOTE_ROOT = "/opt/okta-lab"


@dataclass(frozen=True)
class PrepareResult:
    changed: int
    unchanged: int
    seconds: float
    engine: str


def parse_host(spec: str, identity: Path | None = None, inventory: Path | None = None) -> SshTarget:
    """An inventory host name (when `inventory` lists it), or `[USER@]HOST[:PORT]`."""
    if inventory is not None and inventory.is_file():
        inv = load_inventory(inventory)
        if spec in inv.hosts:
            target = inv.target(spec)
            return target if not identity else SshTarget(**{**target.__dict__, "key_file": str(identity)})
    m = _HOST.match(spec)
    if not m:
        raise UsageError(
            Problem(
                f"{spec!r} is not a host",
                "use [USER@]HOST[:PORT] or a host name from inventory.ini",
            )
        )
    return SshTarget(
        name=m["host"],
        address=m["host"],
        port=int(m["port"] or 22),
        user=m["user"] or "root",
        key_file=str(identity or ""),
    )


def _supported(client: paramiko.SSHClient, target: SshTarget) -> str:
    from lab.host.ssh import SUPPORTED_TEXT, detect_os

    found = detect_os(client)
    if not found.supported:
        raise TargetError(
            Problem(
                f"host {target.label} runs {found.pretty}, which is not supported",
                f"supported: {SUPPORTED_TEXT}",
            )
        )
    return found.id


def prepare_docker(
    ctx: LabContext, target: SshTarget, *, on_step: Callable[[str], None] | None = None
) -> PrepareResult:
    """Install docker.io and compose from the distribution; start the engine. Idempotent."""
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.connect import connect_all, disconnect_all
    from pyinfra.api.operation import add_op
    from pyinfra.api.operations import run_ops
    from pyinfra.operations import apt

    from lab.host.ssh import connect, run

    step = on_step or (lambda _m: None)
    started = time.monotonic()
    step(f"connecting to {target.label}")
    client = connect(target, ctx.known_hosts)  # a clear error before anything changes
    try:
        distro = _supported(client, target)
        has_systemd = run(client, "test -d /run/systemd/system")[0] == 0
    finally:
        client.close()
    data = {
        "ssh_port": target.port,
        "ssh_user": target.user,
        "ssh_known_hosts_file": str(ctx.known_hosts),
        "ssh_strict_host_key_checking": "accept-new",
    }
    if target.key_file:
        data["ssh_key"] = target.key_file
    state = State(Inventory(([(target.address, data)], {})), Config())
    connect_all(state)
    if not state.activated_hosts:
        raise TargetError(Problem(f"pyinfra could not connect to {target.label}", "check SSH access"))
    step(f"installing docker.io and {_COMPOSE_PACKAGE[distro]} from the distribution")
    add_op(
        state,
        apt.packages,
        name="Ensure the Docker engine and compose are installed",
        packages=["docker.io", _COMPOSE_PACKAGE[distro]],
        update=True,
        cache_time=3600,
        no_recommends=True,
        _env={"DEBIAN_FRONTEND": "noninteractive"},
    )
    if has_systemd:
        from pyinfra.operations import systemd

        add_op(
            state,
            systemd.service,
            name="Ensure the Docker engine runs",
            service="docker",
            running=True,
            enabled=True,
        )
    run_ops(state)
    host = next(iter(state.inventory))
    meta = state.get_meta_for_host(host)
    changed, unchanged = int(meta.ops_change), int(meta.ops_no_change)
    disconnect_all(state)
    client = connect(target, ctx.known_hosts)
    try:
        if not has_systemd and run(client, "docker info >/dev/null 2>&1")[0] != 0:
            step("starting dockerd (the host has no systemd)")
            run(client, "nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &")
            changed += 1
        engine = _wait_engine(client, target)
    finally:
        client.close()
    return PrepareResult(changed=changed, unchanged=unchanged, seconds=time.monotonic() - started, engine=engine)


def _wait_engine(client: paramiko.SSHClient, target: SshTarget, timeout: float = 60) -> str:
    from lab.host.ssh import run

    deadline = time.monotonic() + timeout
    while True:
        rc, out, err = run(client, "docker version --format '{{.Server.Version}}'")
        if rc == 0:
            return f"Docker {out.strip()}"
        if time.monotonic() > deadline:
            raise TargetError(Problem(f"the Docker engine on {target.label} does not answer: {err.strip()}"))
        time.sleep(1)


def tunnel_commands(config: LabConfig, target: SshTarget, services: list[str]) -> list[str]:
    """One `ssh -L` per web UI: its port here -> the same port on the remote loopback."""
    values = config.env_values()
    out = []
    for comp in load_catalog():
        if comp.service in services and comp.ui and comp.ui in values:
            out.append(f"{_ssh_forward(target, [int(values[comp.ui])])}  # {comp.service}")
    return out


def published_ports(config: LabConfig, services: list[str]) -> dict[str, int]:
    """`{.env key: port}` of every published TCP port of `services` (what `lab verify` probes)."""
    values = config.env_values()
    out: dict[str, int] = {}
    for comp in load_catalog():
        if comp.service in services:
            for p in comp.ports:
                if p.published and p.proto == "tcp" and p.key in values:
                    out[p.key] = int(values[p.key])
    return out


def all_ports_tunnel(config: LabConfig, target: SshTarget, services: list[str]) -> str:
    """One `ssh -L` forwarding every published port (LDAP, SCIM, the UIs): for clients and `lab verify`."""
    ports = sorted(set(published_ports(config, services).values()))
    return f"{_ssh_forward(target, ports)}  # all published ports" if ports else ""


def _ssh_forward(target: SshTarget, ports: list[int]) -> str:
    key = f" -i {shlex.quote(target.key_file)}" if target.key_file else ""
    forwards = " ".join(f"-L {p}:127.0.0.1:{p}" for p in ports)
    return f"ssh -N{key} -p {target.port} {forwards} {target.user}@{target.address}"


def remote_directory(project: str) -> str:
    return f"{REMOTE_ROOT}/{project}"


class RemoteDockerTarget(ComposeTarget):
    """The lab's compose project in its folder on a remote host, driven over one SSH session."""

    def __init__(
        self, record: DockerRemote, project: str, runner: SshRunner, env: dict[str, str], prefer: str | None = None
    ) -> None:
        self.record: TargetRecord = record
        self.host = record.host
        self.ssh = runner
        super().__init__(project, record.directory, runner, None, env, prefer)

    def detect_compose(self) -> Compose:
        try:
            return detect_compose(self.runner, self._prefer)
        except PreflightError:  # say which host, and how to prepare it
            raise TargetError(
                Problem(
                    f"{self.host.label} has no Docker Compose",
                    f"run `lab host prepare-docker {self.host.name}` first",
                )
            ) from None

    @classmethod
    def open(
        cls,
        record: DockerRemote,
        project: str,
        known_hosts: Path,
        env: dict[str, str],
        *,
        dry_run: bool = False,
        prefer: str | None = None,
    ) -> RemoteDockerTarget:
        """Connect (one clear line when the host cannot be reached) and find its compose."""
        from lab.host.ssh import SshRunner

        runner = SshRunner(record.host, known_hosts, dry_run=dry_run)
        try:
            _supported(runner.connection(), record.host)
            return cls(record, project, runner, env, prefer)
        except BaseException:
            runner.close()
            raise

    def deliver(self, lab_dir: Path, files: tuple[Path, ...]) -> int:
        """Copy the rendered files that differ to the lab's folder, and a 0600 env file for people
        who run compose by hand there. The number of files copied."""
        folders = [self.directory, f"{self.directory}/.lab", f"{self.directory}/data"]
        self.runner.run(["install", "-d", "-m", "700", *folders])
        have = self._checksums()
        copied = 0
        for path in files:
            rel = path.relative_to(lab_dir).as_posix()
            data = path.read_bytes()
            if have.get(rel) == hashlib.sha256(data).hexdigest():
                continue
            self.runner.put(f"{self.directory}/.lab/{rel}", data, path.stat().st_mode & 0o777)
            copied += 1
        text = "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(self.env.items()))
        self.runner.put(f"{self.directory}/lab.env", text.encode(), 0o600)
        return copied

    def _checksums(self) -> dict[str, str]:
        lab = shlex.quote(f"{self.directory}/.lab")
        script = f"cd {lab} 2>/dev/null && find . -type f -exec sha256sum {{}} + || true"
        r = self.runner.query(["sh", "-c", script], timeout=120)
        out = {}
        for line in r.stdout.splitlines():
            digest, _, rel = line.partition("  ")
            out[rel.removeprefix("./")] = digest
        return out

    def reset(self, services: list[str]) -> None:
        raise UsageError(
            Problem(
                f"`lab reset` works on local labs; this one runs on {self.host.name}",
                f"`lab destroy` then `lab up --host {self.host.name}` starts it fresh",
            )
        )

    def destroy(self) -> list[str]:
        """Containers, networks, volumes, and the lab's folder (its data) on the host."""
        super().destroy()
        self.runner.run(["rm", "-rf", self.directory], timeout=600, hint=f"remove {self.directory} on the host by hand")
        return [f"containers and {self.directory} on {self.host.name}"]
