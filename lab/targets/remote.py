"""The Docker target on a remote host: prepare it with pyinfra, ship the rendered lab, start it.

Services stay bound to the remote loopback (LAB_BIND); `lab` prints the SSH tunnel commands that
bring each UI to this machine.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import paramiko

from lab.catalog import load_catalog
from lab.context import LabContext
from lab.errors import Problem, TargetError, UsageError
from lab.host.inventory import SshTarget, load_inventory
from lab.host.ssh import SUPPORTED_TEXT, connect, detect_os, run
from lab.state import LabState
from lab.targets.docker import PROJECT_LABEL, SERVICE_LABEL, ServiceState, service_states

_HOST = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9.:_-]+?)(?::(?P<port>\d+))?$")
#: compose package per distribution (Debian 12 ships compose v1; Ubuntu 24.04 the v2 plugin).
_COMPOSE_PACKAGE = {"debian": "docker-compose", "ubuntu": "docker-compose-v2"}
REMOTE_ROOT = "/opt/okta-lab"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class PrepareResult:
    changed: int
    unchanged: int
    seconds: float
    engine: str


@dataclass(frozen=True)
class RemoteUpResult:
    host: SshTarget
    directory: str
    services: tuple[str, ...]
    tunnels: tuple[str, ...]
    seconds: float
    all_ports: str = ""


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
    deadline = time.monotonic() + timeout
    while True:
        rc, out, err = run(client, "docker version --format '{{.Server.Version}}'")
        if rc == 0:
            return f"Docker {out.strip()}"
        if time.monotonic() > deadline:
            raise TargetError(Problem(f"the Docker engine on {target.label} does not answer: {err.strip()}"))
        time.sleep(1)


def _compose_command(client: paramiko.SSHClient, target: SshTarget) -> str:
    if run(client, "docker compose version")[0] == 0:
        return "docker compose"
    if run(client, "docker-compose version")[0] == 0:
        return "docker-compose"
    raise TargetError(
        Problem(
            f"{target.label} has no Docker Compose",
            f"run `lab host prepare-docker {target.name}` first",
        )
    )


def tunnel_commands(ctx: LabContext, target: SshTarget, services: list[str]) -> list[str]:
    """One `ssh -L` per web UI: its port here -> the same port on the remote loopback."""
    from lab.config import LabConfig

    values = LabConfig.from_env(ctx.env_path).env_values()
    out = []
    for comp in load_catalog():
        if comp.service in services and comp.ui and comp.ui in values:
            out.append(f"{_ssh_forward(target, [int(values[comp.ui])])}  # {comp.service}")
    return out


def published_ports(ctx: LabContext, services: list[str]) -> dict[str, int]:
    """`{.env key: port}` of every published TCP port of `services` (what `lab verify` probes)."""
    from lab.config import LabConfig

    values = LabConfig.from_env(ctx.env_path).env_values()
    out: dict[str, int] = {}
    for comp in load_catalog():
        if comp.service in services:
            for p in comp.ports:
                if p.published and p.proto == "tcp" and p.key in values:
                    out[p.key] = int(values[p.key])
    return out


def all_ports_tunnel(ctx: LabContext, target: SshTarget, services: list[str]) -> str:
    """One `ssh -L` forwarding every published port (LDAP, SCIM, the UIs): for clients and `lab verify`."""
    ports = sorted(set(published_ports(ctx, services).values()))
    return f"{_ssh_forward(target, ports)}  # all published ports" if ports else ""


def _ssh_forward(target: SshTarget, ports: list[int]) -> str:
    key = f" -i {shlex.quote(target.key_file)}" if target.key_file else ""
    forwards = " ".join(f"-L {p}:127.0.0.1:{p}" for p in ports)
    return f"ssh -N{key} -p {target.port} {forwards} {target.user}@{target.address}"


def remote_up(ctx: LabContext, names: list[str], host: str, *, identity: Path | None = None) -> RemoteUpResult:
    """Ship the rendered lab to HOST over SSH, start it with compose, wait until healthy."""
    from lab.pipeline import load_config, render, select

    started = time.monotonic()
    target = parse_host(host, identity, ctx.root / "inventory.ini")
    config = load_config(ctx)
    selection = select(ctx, config, names)
    client = connect(target, ctx.known_hosts)  # no SSH access: one clear line, nothing changed
    try:
        _supported(client, target)
        compose = _compose_command(client, target)
        rendered = render(ctx, config, selection)
        directory = f"{REMOTE_ROOT}/{config.core.project}"
        _ship(client, ctx.lab_dir, rendered.files, directory, config.env_values())
        base = _compose_base(directory, compose, config.core.project)
        missing = _missing_images(client, rendered.images)
        if missing:  # tags carry a hash of their build context: an existing tag is up to date
            rc, out, err = run(client, f"{base} build {' '.join(map(shlex.quote, missing))}", timeout=3600)
            if rc != 0:
                raise TargetError(
                    Problem(f"building {', '.join(missing)} on {target.label} failed: {_tail(err or out)}")
                )
        rc, out, err = run(client, f"{base} up -d --no-build --remove-orphans", timeout=1800)
        if rc != 0:
            raise TargetError(Problem(f"compose up on {target.label} failed: {_tail(err or out)}"))
        _wait_healthy(client, target, config.core.project, config.core.health_timeout)
    finally:
        client.close()
    services = tuple(selection.services)
    LabState(
        target="docker",
        project=config.core.project,
        services=list(services),
        images=rendered.images,
        config=config.env_values(redact=True),
        compose=compose,
        host=f"{target.user}@{target.address}:{target.port}",
        remote={"target": asdict(target), "dir": directory},
    ).save(ctx)
    return RemoteUpResult(
        host=target,
        directory=directory,
        services=services,
        tunnels=tuple(tunnel_commands(ctx, target, list(services))),
        seconds=time.monotonic() - started,
        all_ports=all_ports_tunnel(ctx, target, list(services)),
    )


def _missing_images(client: paramiko.SSHClient, images: dict[str, str]) -> list[str]:
    """Services whose image tag does not exist on the remote engine yet."""
    return [
        svc
        for svc, tag in sorted(images.items())
        if run(client, f"docker image inspect -f . {shlex.quote(tag)}")[0] != 0
    ]


def _ship(
    client: paramiko.SSHClient,
    lab_dir: Path,
    files: tuple[Path, ...],
    directory: str,
    env: dict[str, str],
) -> None:
    """Copy the rendered files (only those that differ) and a 0600 env file for compose."""
    run(
        client,
        "install -d -m 700 " + " ".join(shlex.quote(f"{directory}{s}") for s in ("", "/.lab", "/data")),
    )
    sftp = client.open_sftp()
    try:
        for path in files:
            rel = path.relative_to(lab_dir).as_posix()
            dest = f"{directory}/.lab/{rel}"
            run(client, f"mkdir -p {shlex.quote(dest.rsplit('/', 1)[0])}")
            sftp.put(str(path), dest)
            sftp.chmod(dest, path.stat().st_mode & 0o777)
        text = "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(env.items()))
        with sftp.open(f"{directory}/lab.env", "w") as fh:
            fh.write(text)
        sftp.chmod(f"{directory}/lab.env", 0o600)
    finally:
        sftp.close()


def _wait_healthy(client: paramiko.SSHClient, target: SshTarget, project: str, timeout: int) -> None:
    label = shlex.quote(f"label={PROJECT_LABEL}={project}")
    deadline = time.monotonic() + timeout
    while True:
        _, out, _ = run(client, f"docker ps -a --filter {label} --format '{{{{.Names}}}}\t{{{{.Status}}}}'")
        rows = [line.split("\t", 1) for line in out.strip().splitlines() if "\t" in line]
        waiting = [n for n, s in rows if not s.startswith("Up") or "(health: starting)" in s or "unhealthy" in s]
        if rows and not waiting:
            return
        if time.monotonic() > deadline:
            raise TargetError(
                Problem(
                    f"on {target.label}, not healthy after {timeout}s: {', '.join(waiting) or 'no containers'}",
                    f"see `ssh {target.user}@{target.address} docker logs <container>`",
                )
            )
        time.sleep(2)


def _compose_base(directory: str, compose: str, project: str) -> str:
    """The compose command line, run in the lab's folder on the host with its lab.env loaded."""
    prefix = f"cd {shlex.quote(directory)} && set -a && . ./lab.env && set +a && "
    return f"{prefix}{compose} -p {shlex.quote(project)} -f .lab/compose.yml"


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


@dataclass
class RemoteLab:
    """A lab `lab up --host` started, driven over SSH: compose in its folder on that host.

    `lab status`, `lab logs`, `lab down` and `lab destroy` use it when `.lab/lab.json` records a
    remote lab, so they act on that host, never on a same-named project of the local engine.
    """

    target: SshTarget
    directory: str
    project: str
    compose: str
    known_hosts: Path
    _client: paramiko.SSHClient | None = None

    @classmethod
    def from_state(cls, ctx: LabContext, state: LabState) -> RemoteLab | None:
        if not state.remote:
            return None
        compose = state.compose if state.compose in ("docker compose", "docker-compose") else "docker compose"
        target = SshTarget(**state.remote["target"])
        return cls(target, str(state.remote["dir"]), state.project, compose, ctx.known_hosts)

    def states(self, services: list[str] | None = None) -> list[ServiceState]:
        label = shlex.quote(f"label={PROJECT_LABEL}={self.project}")
        ids = f"$(docker ps -aq --filter {label})"
        rc, out, err = self._run(f"ids={ids}; [ -z \"$ids\" ] && echo '[]' || docker inspect $ids")
        if rc != 0:
            raise TargetError(Problem(f"docker inspect on {self.target.label} failed: {_tail(err or out)}"))
        return service_states(json.loads(out or "[]"), services)

    def container(self, service: str) -> RemoteContainer | None:
        """The running container of `service` on the host, for `exec_run` (as the Docker SDK's)."""
        labels = f"{shlex.quote(f'label={PROJECT_LABEL}={self.project}')}"
        labels += f" --filter {shlex.quote(f'label={SERVICE_LABEL}={service}')}"
        rc, out, _ = self._run(f"docker ps --filter {labels} --format '{{{{.Names}}}}'")
        names = out.split() if rc == 0 else []
        return RemoteContainer(self, names[0]) if names else None

    def down(self) -> None:
        self._compose("down --remove-orphans")

    def destroy(self) -> None:
        """Containers, networks, volumes, and the lab's folder (its data) on the host."""
        self._compose("down --remove-orphans --volumes")
        rc, out, err = self._run(f"rm -rf {shlex.quote(self.directory)}")
        if rc != 0:
            raise TargetError(Problem(f"removing {self.directory} on {self.target.label} failed: {_tail(err or out)}"))

    def logs(self, service: str, tail: int, follow: bool, write: Callable[[str], object]) -> int:
        """Stream `compose logs` from the host to `write`; the exit status of compose."""
        args = f"logs --no-color --tail {int(tail)}{' -f' if follow else ''} {shlex.quote(service) if service else ''}"
        _, stdout, _ = self.connection().exec_command(self._base() + args + " 2>&1")
        try:
            for line in iter(stdout.readline, ""):
                write(_ANSI.sub("", line.rstrip("\n")))  # compose v2 adds terminal codes even here
            # The exit status can arrive after the end of output: wait for it before closing,
            # or a closed channel reports -1 (exit 255) for a command that succeeded.
            return int(stdout.channel.recv_exit_status())
        finally:
            stdout.channel.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> RemoteLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _base(self) -> str:
        return _compose_base(self.directory, self.compose, self.project) + " "

    def _compose(self, args: str) -> None:
        rc, out, err = self._run(self._base() + args, timeout=600)
        if rc != 0:
            raise TargetError(Problem(f"compose {args.split()[0]} on {self.target.label} failed: {_tail(err or out)}"))

    def _run(self, command: str, timeout: float = 120) -> tuple[int, str, str]:
        return run(self.connection(), command, timeout=timeout)

    def connection(self) -> paramiko.SSHClient:
        """The SSH session to the host (opened on first use; `close()` or `with` ends it)."""
        if self._client is None:
            self._client = connect(self.target, self.known_hosts)
        return self._client


@dataclass(frozen=True)
class RemoteContainer:
    """A container on a `lab up --host` host; `exec_run` runs `docker exec` over SSH.

    Environment values (passwords) are written to the command's stdin and read into the
    environment inside the container: they never appear on a command line on either host.
    """

    lab: RemoteLab
    name: str

    def exec_run(
        self, cmd: list[str], environment: dict[str, str] | None = None, demux: bool = False
    ) -> tuple[int, bytes]:
        env = environment or {}
        if not all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", key) for key in env):
            raise ValueError("environment names must be shell identifiers")
        reads = "".join(f"IFS= read -r {key}; export {key}; " for key in env)
        command = " ".join(
            ["docker exec -i", shlex.quote(self.name), "sh -c", shlex.quote(f'{reads}exec "$@"'), "sh"]
            + [shlex.quote(arg) for arg in cmd]
        )
        stdin, stdout, stderr = self.lab.connection().exec_command(command, timeout=120)
        stdin.write("".join(f"{value}\n" for value in env.values()))
        stdin.flush()
        stdin.channel.shutdown_write()
        out, err = stdout.read(), stderr.read()
        return int(stdout.channel.recv_exit_status()), out + err
