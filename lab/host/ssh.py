"""SSH to inventory hosts with paramiko: reachability, OS detection, one-off commands.

Host keys are trusted on first use and pinned in the lab's own `known_hosts` file (the same file
the rendered `ansible.cfg` gives OpenSSH), so a changed host key is an error, not a prompt.
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko

from lab.errors import Problem, TargetError
from lab.host.inventory import SshTarget

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
                    "give it a key: ansible_ssh_private_key_file in the inventory, or --identity",
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


def check_hosts(targets: list[SshTarget], known_hosts: Path) -> dict[str, HostOs]:
    """Reach every host and check its OS, in parallel; raise one TargetError listing every problem.

    Read-only: nothing is changed on any host.
    """

    def probe(target: SshTarget) -> tuple[SshTarget, HostOs | Problem]:
        try:
            client = connect(target, known_hosts)
        except TargetError as exc:
            return target, exc.problems[0]
        try:
            return target, detect_os(client)
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
