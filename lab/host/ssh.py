"""SSH to inventory hosts with paramiko: reachability, OS detection, one-off commands.

Host keys are trusted on first use and pinned in the lab's own `known_hosts` file (the same file
the rendered `ansible.cfg` gives OpenSSH), so a changed host key is an error, not a prompt.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko

from lab.errors import Problem, TargetError
from lab.host.inventory import SshTarget
from lab.runner import Result, failure, show_dry

log = logging.getLogger("lab.runner")

#: (distribution id, VERSION_ID) pairs the roles are written and tested for.
SUPPORTED = {("debian", "12"): "Debian 12 (bookworm)", ("ubuntu", "24.04"): "Ubuntu 24.04 (noble)"}
SUPPORTED_TEXT = ", ".join(SUPPORTED.values())


@dataclass(frozen=True)
class HostOs:
    id: str
    version: str
    pretty: str

    @property
    def supported(self) -> bool:
        return (self.id, self.version) in SUPPORTED


def connect(target: SshTarget, known_hosts: Path, timeout: float = 10.0) -> paramiko.SSHClient:
    """Open an SSH session to `target` or raise TargetError naming the host and the SSH error."""
    client = paramiko.SSHClient()
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    known_hosts.touch(mode=0o600, exist_ok=True)
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(
            target.address,
            port=target.port,
            username=target.user,
            key_filename=target.key_file or None,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            look_for_keys=not target.key_file,
            allow_agent=not target.key_file,
        )
    except paramiko.BadHostKeyException:
        client.close()
        raise TargetError(
            Problem(
                f"host {target.label}: its SSH host key changed",
                f"if the host was rebuilt, remove its line from {known_hosts}",
            )
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise TargetError(
            Problem(
                f"host {target.label}: SSH authentication failed ({exc})",
                "set ansible_user and ansible_ssh_private_key_file for it in the inventory",
            )
        ) from None
    except (TimeoutError, OSError, paramiko.SSHException) as exc:
        client.close()
        if "authentication" in str(exc).lower():  # e.g. no key to offer at all
            raise TargetError(
                Problem(
                    f"host {target.label}: SSH authentication failed ({exc})",
                    "give it a key: ansible_ssh_private_key_file in the inventory, or -k/--identity KEY",
                )
            ) from None
        raise TargetError(
            Problem(
                f"host {target.label} is unreachable: {_reason(exc)}",
                "check ansible_host/ansible_port in the inventory and that sshd runs there",
            )
        ) from None
    return client


def run(client: paramiko.SSHClient, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read().decode(errors="replace")
    err = stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), out, err


def detect_os(client: paramiko.SSHClient) -> HostOs:
    rc, out, _ = run(client, "cat /etc/os-release")
    fields: dict[str, str] = {}
    if rc == 0:
        for line in out.splitlines():
            key, _, value = line.partition("=")
            fields[key] = " ".join(shlex.split(value)) if value else ""
    return HostOs(
        id=fields.get("ID", "unknown"),
        version=fields.get("VERSION_ID", ""),
        pretty=fields.get("PRETTY_NAME", "an unknown OS (no /etc/os-release)"),
    )


#: groups whose members the distributions' sudoers let run anything (with their password)
_SUDO_GROUPS = {"sudo", "admin", "wheel"}
_PASSWORD_HINT = (
    "put it in a file (mode 0600) and pass --become-password-file FILE (or set LAB_BECOME_PASSWORD_FILE), "
    "or use --ask-become-pass; or give the user passwordless sudo"
)


def check_sudo(client: paramiko.SSHClient, target: SshTarget, password: str | None = None) -> Problem | None:
    """None when `target.user` can become root (root itself, passwordless sudo, or sudo with
    `password`); otherwise which it is: no sudo, sudo needs a password, or the password is wrong.

    Read-only: runs `sudo -n true` (and `sudo -S -k true` with the password on stdin)."""
    if target.user == "root":
        return None
    who = f"host {target.label}"
    rc, _, err = run(client, "command -v sudo >/dev/null || exit 127; sudo -n true", timeout=30)
    if rc == 0:
        return None
    if rc == 127:
        return Problem(f"{who}: no sudo (sudo is not installed there)", "log in as root, or install sudo on it")
    if password is not None:
        stdin, stdout, stderr = client.exec_command("sudo -S -k -p '' true", timeout=30)
        stdin.write(password + "\n")
        stdin.flush()
        stdin.channel.shutdown_write()
        err = stderr.read().decode(errors="replace")
        rc = stdout.channel.recv_exit_status()
        if rc == 0:
            return None
        if "not in the sudoers" in err or "may not run sudo" in err or "not allowed to" in err:
            return Problem(f"{who}: no sudo ({target.user} may not use sudo there)", _NO_SUDO_HINT)
        return Problem(f"{who}: sudo rejected the become password for {target.user}", "check the password file")
    _, groups, _ = run(client, "id -nG", timeout=30)
    if _SUDO_GROUPS & set(groups.split()) or "password is required" not in err:
        return Problem(f"{who}: sudo needs a password for {target.user}", _PASSWORD_HINT)
    return Problem(
        f"{who}: no sudo ({target.user} has no passwordless sudo and is in none of the groups "
        f"{', '.join(sorted(_SUDO_GROUPS))})",
        f"{_NO_SUDO_HINT}; if its sudo does ask for a password, pass --become-password-file FILE",
    )


_NO_SUDO_HINT = "log in as root (ansible_user=root), or give the user sudo (e.g. `usermod -aG sudo USER`)"


def check_hosts(
    targets: list[SshTarget], known_hosts: Path, passwords: dict[str, str | None] | None = None
) -> dict[str, HostOs]:
    """Reach every host, check its OS and that its user can become root, in parallel; raise one
    TargetError listing every problem. `passwords`: the sudo password per host name, if any.

    Read-only: nothing is changed on any host.
    """

    def probe(target: SshTarget) -> tuple[SshTarget, HostOs | Problem]:
        try:
            client = connect(target, known_hosts)
        except TargetError as exc:
            return target, exc.problems[0]
        try:
            found = detect_os(client)
            if not found.supported:
                return target, found
            return target, check_sudo(client, target, (passwords or {}).get(target.name)) or found
        finally:
            client.close()

    found: dict[str, HostOs] = {}
    problems: list[Problem] = []
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(targets)))) as pool:
        for target, result in pool.map(probe, targets):
            if isinstance(result, Problem):
                problems.append(result)
            elif not result.supported:
                problems.append(
                    Problem(
                        f"host {target.label} runs {result.pretty}, which the roles do not support",
                        f"supported: {SUPPORTED_TEXT}",
                    )
                )
            else:
                found[target.name] = result
    if problems:
        raise TargetError(*problems)
    return found


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        errors = {str(e) for e in exc.errors.values()}
        return "; ".join(sorted(errors)) or str(exc)
    return str(exc) or type(exc).__name__


class SshRunner:
    """The runner protocol (`lab.runner.CommandRunner`) over one SSH session to `target`.

    The session opens on first use (`close()` ends it). Environment values go to the remote
    shell on stdin (`IFS= read -r KEY`), never on a command line: a remote `ps` shows no secret.
    In a dry run, `query` still runs (so the compose variant shown is the host's), `run`, `send`
    and `put` are only shown.

    `become`: run every command through `sudo -n` (an SSH user other than root that needs root
    on the host: the lab's folder under /opt, Docker without the `docker` group).
    `become_password` (for a user whose sudo asks for one): `sudo -k -S -p ''` instead, with the
    password as the first line on stdin (sudo reads it up to the newline and leaves the rest of
    stdin to the command), so it appears on no command line and in no log.
    """

    def __init__(
        self,
        target: SshTarget,
        known_hosts: Path,
        *,
        dry_run: bool = False,
        become: bool = False,
        become_password: str | None = None,
    ) -> None:
        self.target = target
        self.known_hosts = known_hosts
        self.dry_run = dry_run
        self.become = become
        self.become_password = become_password
        self._client: paramiko.SSHClient | None = None

    def _password_line(self) -> bytes:
        """What goes on stdin before anything else: the sudo password, when sudo reads one."""
        return f"{self.become_password}\n".encode() if self.become and self.become_password is not None else b""

    @property
    def where(self) -> str:
        return self.target.name

    def connection(self) -> paramiko.SSHClient:
        if self._client is None:
            self._client = connect(self.target, self.known_hosts)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def command_line(
        self, args: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | Path | None = None
    ) -> str:
        """The shell line run on the host; env names are read from stdin, values never appear."""
        names = list(env or {})
        if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) for key in names):
            raise ValueError("environment names must be shell identifiers")
        line = shlex.join(args)
        if names:
            reads = "".join(f"IFS= read -r {key}; export {key}; " for key in names)
            script = reads + 'exec "$@"'
            line = f"sh -c {shlex.quote(script)} sh {line}"
        if cwd:
            line = f"cd {shlex.quote(str(cwd))} && {line}"
        if self.become and self.become_password is not None:  # the password comes first on stdin
            line = f"sudo -k -S -p '' -- sh -c {shlex.quote(line)}"
        elif self.become:  # the whole line as root: `cd` into a 0700 folder included
            line = f"sudo -n -- sh -c {shlex.quote(line)}"
        return line

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
    ) -> Result:
        if self.dry_run:
            show_dry(args, self.where, cwd)
            return Result(tuple(args), 0, "", "")
        return self.query(args, check=check, input=input, timeout=timeout, env=env, hint=hint, cwd=cwd)

    def query(
        self,
        args: Sequence[str],
        *,
        check: bool = False,
        input: str | bytes | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        hint: str = "",
        cwd: str | Path | None = None,
    ) -> Result:
        line = self.command_line(args, env, cwd)
        log.debug("run on %s: %s", self.target.name, line)
        stdin, stdout, stderr = self.connection().exec_command(line, timeout=timeout or 120)
        feed = self._password_line() + "".join(f"{value}\n" for value in (env or {}).values()).encode()
        feed += input.encode() if isinstance(input, str) else (input or b"")
        if feed:
            stdin.write(feed)
            stdin.flush()
        stdin.channel.shutdown_write()
        out = stdout.read().decode(errors="replace")
        err = stderr.read().decode(errors="replace")
        result = Result(tuple(args), int(stdout.channel.recv_exit_status()), out, err)
        if check and not result.ok:
            raise failure(args, result, hint, self.target.label)
        return result

    def stream(
        self,
        args: Sequence[str],
        write: Callable[[str], object],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        input: str | None = None,
    ) -> int:
        stdin, stdout, _ = self.connection().exec_command(self.command_line(args, env, cwd) + " 2>&1")
        try:
            feed = self._password_line() + ("".join(f"{v}\n" for v in (env or {}).values()) + (input or "")).encode()
            if feed:
                stdin.write(feed)
                stdin.flush()
            stdin.channel.shutdown_write()
            for line in iter(stdout.readline, ""):
                write(line.rstrip("\n"))
            # The exit status can arrive after the end of output: wait for it before closing,
            # or a closed channel reports -1 (exit 255) for a command that succeeded.
            return int(stdout.channel.recv_exit_status())
        finally:
            stdout.channel.close()

    def send(self, args: Sequence[str], data: bytes, *, timeout: float = 600, hint: str = "") -> Result:
        """Run `args` with `data` on its stdin (e.g. a tar stream), over the same session; a
        changing command, so a dry run only shows it (and the size)."""
        if self.dry_run:
            show_dry(args, self.where)
            log.info("would send %d bytes to it", len(data))
            return Result(tuple(args), 0, "", "")
        return self.query(args, check=True, input=data, timeout=timeout, hint=hint)

    def put(self, dest: str, data: bytes, mode: int = 0o644) -> None:
        """Write `data` to `dest` on the host (its folder created), with `mode` from the start."""
        if self.dry_run:
            log.info("would write: %s:%s (%d bytes, mode %o)", self.target.name, dest, len(data), mode)
            return
        folder = shlex.quote(dest.rsplit("/", 1)[0] or "/")
        target = shlex.quote(dest)
        tmp = shlex.quote(dest + ".tmp")
        script = f"mkdir -p {folder} && (umask 077 && cat > {tmp}) && chmod {mode:o} {tmp} && mv -f {tmp} {target}"
        self.query(["sh", "-c", script], check=True, input=data)
