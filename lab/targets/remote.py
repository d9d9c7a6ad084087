"""The Docker target on a remote host: prepare it with pyinfra, ship the rendered lab, start it.

`RemoteDockerTarget` is the local Docker target's compose logic (`ComposeTarget`) run through an
`SshRunner`: the same compose detection, builds, health wait and logs, plus `deliver` (copy the
rendered files, only those that differ) and the removal of the lab's folder on `destroy`.
Services stay bound to the remote loopback (LAB_BIND); `lab` prints the SSH tunnel commands that
bring each UI to this machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
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
from lab.errors import ConfigError, PreflightError, Problem, TargetError, UsageError
from lab.host.become import ENV as BECOME_ENV
from lab.host.inventory import SshTarget, load_inventory
from lab.state import DockerRemote, TargetRecord
from lab.targets.compose import Compose, detect_compose
from lab.targets.docker import ComposeTarget

if TYPE_CHECKING:
    import paramiko

    from lab.host.become import Become
    from lab.host.ssh import SshRunner

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HOST = re.compile(r"^(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9.:_-]+?)(?::(?P<port>\d+))?$")
#: compose package per distribution (Debian 12 ships compose v1; Ubuntu 24.04 the v2 plugin).
_COMPOSE_PACKAGE = {"debian": "docker-compose", "ubuntu": "docker-compose-v2"}
REMOTE_ROOT = "/opt/okta-lab"
#: beside `.lab/` in the lab's folder: the values compose interpolates (mode 0600)
ENV_FILE = "lab.env"
#: never shipped nor removed by `deliver` (the state stays on this machine)
STATE_FILE = ".lab/lab.json"


@dataclass(frozen=True)
class PrepareResult:
    changed: int
    unchanged: int
    seconds: float
    engine: str


@dataclass(frozen=True)
class ShipResult:
    """What `deliver` sent: files shipped of the total (lab.env included), stale files removed, bytes."""

    shipped: int
    total: int
    removed: int
    bytes: int
    dry_run: bool = False
    #: sha256 of every file wanted there (path and content): what a lab started from these files ran
    digest: str = ""

    @property
    def nothing(self) -> bool:
        """Nothing was sent nor removed: the host already had exactly these files."""
        return not self.shipped and not self.removed and not self.dry_run

    def __str__(self) -> str:
        gone = f", {'would remove' if self.dry_run else 'removed'} {self.removed} stale" if self.removed else ""
        verb = "would ship" if self.dry_run else "shipped"
        return f"{verb} {self.shipped} of {self.total} files ({self.bytes / 1024:.0f} KiB){gone}"


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """An uncompressed tar of `{relative path: (content, mode)}`, owned by root, folders 0755."""
    import io
    import tarfile

    buf = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folders = sorted({p for rel in files for p in _parents(rel)})
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, now
            tar.addfile(info)
        for rel, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(rel)
            info.size, info.mode, info.mtime = len(data), mode, now
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def parse_host(
    spec: str, identity: Path | None = None, inventory: Path | None = None, *, explicit: bool = False
) -> SshTarget:
    """An inventory host name (when `inventory` lists it), or `[USER@]HOST[:PORT]`.

    `explicit`: the inventory was named by the user, so it must exist (ConfigError otherwise)."""
    if inventory is not None and (explicit or inventory.is_file()):
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
    ctx: LabContext,
    target: SshTarget,
    *,
    docker_group: bool = False,
    on_step: Callable[[str], None] | None = None,
    become: Become | None = None,
) -> PrepareResult:
    """Install docker.io and compose from the distribution, start and enable the engine; with
    `docker_group`, add the SSH user to the `docker` group. Idempotent (pyinfra over SSH).

    An SSH user other than root needs sudo: passwordless, or with the password of `become`
    (checked first; every operation then runs through sudo). pyinfra would pass a sudo password
    on the remote command line (`env PYINFRA_SUDO_PASSWORD=...`), so with a password the same
    two steps run as shell commands over lab's own SSH session, the password on stdin. Every
    failure is one error: SSH, OS, sudo, the package install (the last error lines), or the
    engine not answering (with the engine's last log lines).
    """
    from lab.host.ssh import SshRunner

    step = on_step or (lambda _m: None)
    started = time.monotonic()
    root = target.user == "root"
    step(f"connecting to {target.label}")
    runner = SshRunner(target, ctx.known_hosts)  # a clear error before anything changes
    try:
        distro = _supported(runner.connection(), target)
        if not root:
            require_sudo(runner, target, "install the Docker engine", become)
        has_systemd = runner.query(["test", "-d", "/run/systemd/system"]).ok
    finally:
        runner.close()
    password = runner.become_password
    if password is None:
        failed, changed, unchanged = _install_with_pyinfra(ctx, target, distro, has_systemd, step)
    runner = SshRunner(target, ctx.known_hosts, become=not root, become_password=password)
    try:
        if password is not None:
            failed, changed, unchanged = _install_over_ssh(runner, distro, has_systemd, step)
        if failed:
            if not runner.query(["sh", "-c", "command -v dockerd"]).ok:
                raise TargetError(
                    Problem(
                        f"installing docker.io on {target.label} failed: {failed}",
                        "check the host's apt sources and network (`lab -v host prepare-docker` shows more)",
                    )
                )
            raise TargetError(_engine_problem(runner, target, has_systemd, "does not start"))
        if not has_systemd and not runner.query(["docker", "info"]).ok:
            step("starting dockerd (the host has no systemd)")
            runner.query(["sh", "-c", "nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &"])
            changed += 1
        engine = _wait_engine(runner, target, has_systemd)
        if docker_group and not root:
            if "docker" in runner.query(["id", "-nG", target.user]).stdout.split():
                unchanged += 1
            else:
                step(f"adding {target.user} to the docker group")
                runner.run(["usermod", "-aG", "docker", target.user], hint="add the user by hand: usermod -aG docker")
                changed += 1
    finally:
        runner.close()
    return PrepareResult(changed=changed, unchanged=unchanged, seconds=time.monotonic() - started, engine=engine)


def _install_over_ssh(
    runner: SshRunner, distro: str, has_systemd: bool, step: Callable[[str], None]
) -> tuple[str, int, int]:
    """pyinfra's two operations as commands (for a sudo password on stdin): (failure, changed, unchanged)."""
    packages = ["docker.io", _COMPOSE_PACKAGE[distro]]
    changed = unchanged = 0
    listed = runner.query(["dpkg-query", "-W", "-f", "${Status}\n", *packages], timeout=60).stdout
    if listed.count("install ok installed") == len(packages):
        unchanged += 1
    else:
        step(f"installing {' and '.join(packages)} from the distribution")
        script = (
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
            "apt-get install -y -qq --no-install-recommends " + " ".join(packages)
        )
        r = runner.query(["sh", "-c", script], timeout=1800)
        if not r.ok:
            lines = [line.strip() for line in (r.stderr or r.stdout).splitlines() if line.strip()]
            return " / ".join(lines[-3:]) or f"apt-get exited {r.returncode}", changed, unchanged
        changed += 1
    if has_systemd:
        state = runner.query(["sh", "-c", "systemctl is-enabled docker && systemctl is-active docker"], timeout=60)
        if state.ok:
            unchanged += 1
        else:
            r = runner.query(["systemctl", "enable", "--now", "docker"], timeout=300)
            if not r.ok:
                lines = (r.stderr or r.stdout).strip().splitlines() or ["systemctl enable --now docker failed"]
                return lines[-1], changed, unchanged
            changed += 1
    return "", changed, unchanged


def _install_with_pyinfra(
    ctx: LabContext, target: SshTarget, distro: str, has_systemd: bool, step: Callable[[str], None]
) -> tuple[str, int, int]:
    """Ensure the packages and the running engine with pyinfra: (failure, changed, unchanged)."""
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.connect import connect_all, disconnect_all
    from pyinfra.api.exceptions import PyinfraError
    from pyinfra.api.operation import add_op
    from pyinfra.api.operations import run_ops
    from pyinfra.operations import apt

    become = target.user != "root"
    data: dict[str, object] = {
        "ssh_port": target.port,
        "ssh_user": target.user,
        "ssh_known_hosts_file": str(ctx.known_hosts),
        "ssh_strict_host_key_checking": "accept-new",
    }
    if target.key_file:
        data["ssh_key"] = target.key_file
    state = State(Inventory(([(target.address, data)], {})), Config(SUDO=become))
    errors = _PyinfraErrors()
    pyinfra_log = logging.getLogger("pyinfra")
    pyinfra_log.addHandler(errors)
    propagate = pyinfra_log.propagate
    pyinfra_log.propagate = logging.getLogger("lab").isEnabledFor(logging.DEBUG)  # its lines with -v only
    changed = unchanged = 0
    try:
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
        failed = ""
        try:
            run_ops(state)
        except PyinfraError as exc:
            failed = errors.last() or str(exc)
        host = next(iter(state.inventory))
        meta = state.get_meta_for_host(host)
        changed, unchanged = int(meta.ops_change), int(meta.ops_no_change)
        if not failed and state.failed_hosts:
            failed = errors.last() or "an operation failed"
    finally:
        pyinfra_log.removeHandler(errors)
        pyinfra_log.propagate = propagate
        with contextlib.suppress(Exception):
            disconnect_all(state)
    return failed, changed, unchanged


class _PyinfraErrors(logging.Handler):
    """pyinfra's error and warning lines (the failed command's output), colour codes removed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        for line in _ANSI.sub("", record.getMessage()).splitlines():
            if line.strip():
                self.lines.append(line.strip())

    def last(self) -> str:
        wanted = [line for line in self.lines if "No hosts remaining" not in line]
        return " / ".join(wanted[-3:])


def _engine_problem(runner: SshRunner, target: SshTarget, has_systemd: bool, what: str) -> Problem:
    """ "the engine ... does not start", with the engine's last log lines (journal or dockerd.log)."""
    if has_systemd:  # dockerd's own lines (_SYSTEMD_UNIT), not systemd's restart messages; else the unit's
        cmd = (
            "out=$(journalctl _SYSTEMD_UNIT=docker.service -n 15 --no-pager -o cat 2>/dev/null); "
            '[ -n "$out" ] && printf "%s\\n" "$out" || journalctl -u docker.service -n 15 --no-pager -o cat 2>&1'
        )
    else:
        cmd = "tail -n 15 /var/log/dockerd.log 2>&1"
    lines = runner.query(["sh", "-c", cmd + " || true"], timeout=60).stdout.strip()
    log = "\n".join(f"  {line}" for line in lines.splitlines()[-15:]) or "  (no log lines)"
    where = "`journalctl -u docker`" if has_systemd else "/var/log/dockerd.log"
    return Problem(
        f"the Docker engine on {target.label} {what}",
        f"its last log lines:\n{log}\nfix the cause shown (more in {where} on the host), then run "
        f"`lab host prepare-docker {target.name}` again",
    )


def require_sudo(
    runner: SshRunner, target: SshTarget, why: str, become: Become | Callable[[], Become] | None = None
) -> None:
    """Make `runner` able to become root as `target.user`, or raise one error saying which of
    "no sudo at all", "sudo needs a password" (none given) and "the password is wrong" it is.

    Passwordless sudo is used as it is (no password is ever sent then); otherwise the password
    of `become` is tried once (`sudo -k -S`, on stdin) and, when sudo takes it, kept in the
    runner for every later command (`become` may be a callable: it is only read then). A missing
    or rejected password is a ConfigError (exit 2)."""
    r = runner.query(["sh", "-c", "command -v sudo >/dev/null || exit 127; sudo -n true"], timeout=30)
    if r.ok:
        return
    user = target.user
    if r.returncode == 127:
        what, fix = "sudo is not installed", f"log in as root, or install sudo and allow {user} to use it"
        raise TargetError(Problem(f"{user} on {target.label} needs root to {why}, but {what}", fix))
    if "password" not in (r.stderr + r.stdout).lower():
        what = "it may not use sudo"
        fix = f"add {user} to the sudo group with passwordless sudo, or log in as root"
        raise TargetError(Problem(f"{user} on {target.label} needs root to {why}, but {what}", fix))
    groups = set(runner.query(["id", "-nG"], timeout=30).stdout.split())
    no_group = "" if groups & {"sudo", "admin", "wheel"} else f" ({user} is in no sudo group: it may not use sudo)"
    if callable(become):
        become = become()
    password = become.password if become is not None else None
    if password is None:
        raise ConfigError(
            Problem(
                f"{user} on {target.label} needs root to {why}, but sudo asks for a password{no_group}",
                f"give it: --become-password-file FILE (mode 0600; or ${BECOME_ENV}) or -K to type it; "
                f"or allow {user} passwordless sudo (`{user} ALL=(ALL) NOPASSWD:ALL` in /etc/sudoers.d/); "
                "nothing was changed or shipped",
            )
        )
    check = runner.query(["sh", "-c", "sudo -k -S -p '' true"], input=f"{password}\n", timeout=30)
    if not check.ok:
        source = f"the password in {become.file}" if become and become.file else "the password typed"
        raise ConfigError(
            Problem(
                f"sudo on {target.label} rejected {source} for {user}{no_group}",
                "check the password (first line of the file), then retry; nothing was changed or shipped",
            )
        )
    runner.become_password = password


def recorded_become(record: DockerRemote, given: Become | None = None) -> Become:
    """The sudo password for a remote lab's host: the one given now (file, $LAB_BECOME_PASSWORD_FILE
    or prompt), else the file whose path `lab up --host` recorded; none when neither."""
    from lab.host import become

    if given is not None and given.password is not None:
        return given
    found = become.load()  # $LAB_BECOME_PASSWORD_FILE
    if found.password is None and record.become_file:
        found = become.from_file(Path(record.become_file))
    return found


def _wait_engine(runner: SshRunner, target: SshTarget, has_systemd: bool, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        r = runner.query(["docker", "version", "--format", "{{.Server.Version}}"], timeout=60)
        if r.ok and r.stdout.strip():
            return f"Docker {r.stdout.strip()}"
        if time.monotonic() > deadline:
            raise TargetError(_engine_problem(runner, target, has_systemd, f"does not answer after {timeout:.0f}s"))
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


@dataclass(frozen=True)
class TunnelPlan:
    """The all-ports tunnel to a remote lab: `argv` (OpenSSH), `{.env key: (remote port, local
    port)}`, and the env file (a copy of `.env` with the local ports) that `lab verify` reads."""

    argv: tuple[str, ...]
    ports: dict[str, tuple[int, int]]
    env_file: Path


def plan_tunnel(ctx: LabContext, config: LabConfig, record: DockerRemote, services: list[str]) -> TunnelPlan:
    """Forward every published TCP port of `services`: to the same port here when it is free on
    127.0.0.1, to a free one otherwise. Writes `.lab/tunnel.env` (mode 0600: `.env` holds the
    secrets) whose port keys hold the local ports, for `lab --env-file .lab/tunnel.env verify`."""
    import os
    import socket

    from lab.targets.docker import port_in_use

    ports: dict[str, tuple[int, int]] = {}
    taken: set[int] = set()
    for key, remote in sorted(published_ports(config, services).items()):
        local = remote
        while local in taken or port_in_use("127.0.0.1", local):  # the kernel may hand a port out twice
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                local = int(s.getsockname()[1])
        taken.add(local)
        ports[key] = (remote, local)
    text = ctx.env_path.read_text()
    for key, (_, local) in ports.items():
        text, n = re.subn(rf"(?m)^{re.escape(key)}=.*$", f"{key}={local}", text)
        if not n:
            text += f"\n{key}={local}\n"
    env_file = ctx.lab_dir / "tunnel.env"
    env_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# generated by lab host tunnel — the .env of this lab with the tunnel's local ports\n" + text)
    os.chmod(env_file, 0o600)
    host = record.host
    argv = ["ssh", "-N", "-o", "ExitOnForwardFailure=yes", "-o", f"UserKnownHostsFile={ctx.known_hosts}"]
    argv += ["-o", "StrictHostKeyChecking=accept-new", "-p", str(host.port)]
    argv += ["-i", host.key_file] if host.key_file else []
    for remote, local in sorted(set(ports.values())):
        argv += ["-L", f"{local}:127.0.0.1:{remote}"]
    argv.append(f"{host.user}@{host.address}")
    return TunnelPlan(tuple(argv), ports, env_file)


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
        become: Become | None = None,
    ) -> RemoteDockerTarget:
        """Connect (one clear line when the host cannot be reached), check the OS and, for an SSH
        user other than root, that it may become root: passwordless (every command then runs
        through `sudo -n`) or with the password of `become` (else the recorded file's, see
        `recorded_become`), which sudo then reads from stdin before each command."""
        from lab.host.ssh import SshRunner

        runner = SshRunner(record.host, known_hosts, dry_run=dry_run)
        try:
            _supported(runner.connection(), record.host)
            if record.host.user != "root":
                require_sudo(
                    runner, record.host, "run the lab under " + REMOTE_ROOT, lambda: recorded_become(record, become)
                )
                runner.become = True
            return cls(record, project, runner, env, prefer)
        except BaseException:
            runner.close()
            raise

    def check_engine(self) -> str:
        """The remote engine's version ("Docker 26.1.5"), or TargetError (one line) when it does
        not answer: checked before anything is shipped."""
        r = self.runner.query(["docker", "version", "--format", "{{.Server.Version}}"], timeout=60)
        if r.ok and r.stdout.strip():
            return f"Docker {r.stdout.strip()}"
        detail = (r.stderr or r.stdout).strip().splitlines()
        raise TargetError(
            Problem(
                f"the Docker engine on {self.host.label} does not answer" + (f": {detail[-1]}" if detail else ""),
                f"nothing was shipped; start it (`lab host prepare-docker {self.host.name}`), then retry",
            )
        )

    def deliver(self, lab_dir: Path, files: tuple[Path, ...]) -> ShipResult:
        """Ship the rendered files that differ, and the 0600 `lab.env` compose interpolates, to the
        lab's folder: one manifest query (sha256 of what is there), then one tar stream over the
        same SSH session carrying only the changed files; files no longer rendered are removed.

        Nothing is sent when nothing changed. Raises TargetError (one line) when the host refuses.
        """
        env_text = "".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(self.env.items())).encode()
        wanted: dict[str, tuple[bytes, int]] = {ENV_FILE: (env_text, 0o600)}
        for path in files:
            rel = f".lab/{path.relative_to(lab_dir).as_posix()}"
            wanted[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
        have = self._manifest()
        changed = {rel: item for rel, item in wanted.items() if have.get(rel) != hashlib.sha256(item[0]).hexdigest()}
        stale = sorted(rel for rel in have if rel.startswith(".lab/") and rel not in wanted and rel != STATE_FILE)
        size = sum(len(data) for data, _ in changed.values())
        if changed or stale or not have:
            d = shlex.quote(self.directory)
            folders = " ".join(shlex.quote(f"{self.directory}/{sub}") for sub in (".lab", "data"))
            script = f"install -d -m 700 {d} && install -d -m 755 {folders}"
            if changed:
                script += f" && tar -x -p --no-same-owner -f - -C {d}"
            if stale:
                script += " && cd " + d + " && rm -f -- " + " ".join(shlex.quote(rel) for rel in stale)
            self.ssh.send(
                ["sh", "-c", script],
                _tar(changed) if changed else b"",
                hint=f"check that {self.host.user} can write {REMOTE_ROOT} on the host (root or sudo)",
            )
        digest = hashlib.sha256(
            "".join(
                f"{rel}\0{hashlib.sha256(data).hexdigest()}\n" for rel, (data, _) in sorted(wanted.items())
            ).encode()
        ).hexdigest()
        return ShipResult(len(changed), len(wanted), len(stale), size, dry_run=self.ssh.dry_run, digest=digest)

    def _manifest(self) -> dict[str, str]:
        """{path relative to the lab's folder: sha256} of `.lab/*` and `lab.env` there ({} if none)."""
        d = shlex.quote(self.directory)
        script = (
            f"cd {d} 2>/dev/null || exit 0; "
            f"find .lab -type f -exec sha256sum {{}} + 2>/dev/null; test -f {ENV_FILE} && sha256sum {ENV_FILE}; true"
        )
        r = self.runner.query(["sh", "-c", script], timeout=120)
        if not r.ok:
            raise TargetError(Problem(f"cannot read {self.host.name}:{self.directory}: {r.stderr.strip()}"))
        out = {}
        for line in r.stdout.splitlines():
            digest, _, rel = line.partition("  ")
            if rel:
                out[rel.removeprefix("./")] = digest
        return out

    def missing_images(self, tags: list[str]) -> list[str]:
        """The tags of `tags` absent from the host's engine, in one query."""
        if not tags:
            return []
        script = 'for t in "$@"; do docker image inspect -f . "$t" >/dev/null 2>&1 || echo "$t"; done'
        r = self.runner.query(["sh", "-c", script, "sh", *tags], timeout=120)
        return [t for t in tags if t in set(r.stdout.split())]

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
