"""Service states from `docker inspect` documents (local SDK or a remote host's CLI alike)."""

from __future__ import annotations

from pathlib import Path

from lab.context import LabContext
from lab.state import LabState
from lab.targets.docker import service_states
from lab.targets.remote import RemoteLab


def inspected(service: str, status: str, health: str | None, output: str = "") -> dict[str, object]:
    state: dict[str, object] = {"Status": status}
    if health:
        state["Health"] = {"Status": health, "Log": [{"Output": f"first\n{output}\n"}]}
    return {
        "Name": f"/lab-{service}-1",
        "Config": {"Labels": {"com.docker.compose.service": service}},
        "State": state,
        "NetworkSettings": {"Ports": {"1443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "1443"}], "22/tcp": None}},
    }


def test_states_follow_the_requested_order_and_mark_missing_services() -> None:
    docs = [inspected("scim", "running", "healthy"), inspected("db", "running", "starting", "waiting for sql")]
    states = service_states(docs, ["db", "scim", "viewer"])
    assert [(s.service, s.state, s.health) for s in states] == [
        ("db", "running", "starting"),
        ("scim", "running", "healthy"),
        ("viewer", "missing", "none"),
    ]
    assert states[0].detail == "waiting for sql" and not states[0].ready
    assert states[1].container == "lab-scim-1" and states[1].ports == ("127.0.0.1:1443->1443/tcp",)
    assert states[1].ready


def test_without_a_service_list_every_container_is_reported_sorted() -> None:
    states = service_states([inspected("viewer", "exited", None), inspected("db", "running", None)])
    assert [(s.service, s.health) for s in states] == [("db", "none"), ("viewer", "none")]


def test_only_labs_started_with_up_host_are_remote(tmp_path: Path) -> None:
    ctx = LabContext(root=tmp_path)
    assert RemoteLab.from_state(ctx, LabState(services=["db"])) is None
    target = {"name": "ci", "address": "127.0.0.1", "port": 2222, "user": "root", "key_file": "", "connection": "ssh"}
    remote = RemoteLab.from_state(
        ctx, LabState(project="p1", compose="docker-compose", remote={"target": target, "dir": "/opt/okta-lab/p1"})
    )
    assert remote is not None
    assert (remote.target.name, remote.directory, remote.project, remote.compose) == (
        "ci", "/opt/okta-lab/p1", "p1", "docker-compose",
    )  # fmt: skip
    assert remote._base().startswith("cd /opt/okta-lab/p1 && ") and "-p p1 -f .lab/compose.yml" in remote._base()


class _Channel:
    def __init__(self) -> None:
        self.closed_write = False

    def shutdown_write(self) -> None:
        self.closed_write = True

    def recv_exit_status(self) -> int:
        return 0


class _Stream:
    def __init__(self, data: bytes = b"") -> None:
        self.data, self.written, self.channel = data, "", _Channel()

    def write(self, text: str) -> None:
        self.written += text

    def flush(self) -> None:
        pass

    def read(self) -> bytes:
        return self.data


class _Ssh:
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.stdin = _Stream()

    def exec_command(self, command: str, timeout: float) -> tuple[_Stream, _Stream, _Stream]:
        self.commands.append(command)
        return self.stdin, _Stream(b"USER_ID\nrey\n"), _Stream()


def test_remote_exec_passes_secrets_on_stdin_not_on_a_command_line(tmp_path: Path) -> None:
    from lab.host.inventory import SshTarget
    from lab.targets.remote import RemoteContainer

    ssh = _Ssh()
    remote = RemoteLab(SshTarget("ci", "127.0.0.1"), "/opt/okta-lab/p", "p", "docker compose", tmp_path / "kh")
    remote._client = ssh  # type: ignore[assignment]
    code, out = RemoteContainer(remote, "p-db-1").exec_run(["mariadb", "-e", "SELECT 1"], {"MYSQL_PWD": "s3cret"})
    assert (code, out) == (0, b"USER_ID\nrey\n")
    assert "s3cret" not in ssh.commands[0] and ssh.stdin.written == "s3cret\n" and ssh.stdin.channel.closed_write
    command = ssh.commands[0]
    assert command.startswith("docker exec -i p-db-1 sh -c ") and command.endswith("mariadb -e 'SELECT 1'")


class _LateStatusChannel:
    """Like paramiko's: the exit status arrives after the output; closing first loses it (-1)."""

    def __init__(self) -> None:
        self.closed = False

    def recv_exit_status(self) -> int:
        return -1 if self.closed else 3

    def close(self) -> None:
        self.closed = True


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.lines, self.channel = iter(lines), _LateStatusChannel()

    def readline(self) -> str:
        return next(self.lines, "")


def test_remote_logs_returns_the_status_compose_exited_with(tmp_path: Path) -> None:
    from lab.host.inventory import SshTarget

    output = _Lines(["\x1b[36mscim-1  | \x1b[0mstarted\n", "scim-1  | ready\n"])

    class _LogsSsh:
        def exec_command(self, command: str) -> tuple[None, _Lines, None]:
            assert "logs --no-color --tail 5 scim" in command
            return None, output, None

    remote = RemoteLab(SshTarget("ci", "127.0.0.1"), "/opt/okta-lab/p", "p", "docker compose", tmp_path / "kh")
    remote._client = _LogsSsh()  # type: ignore[assignment]
    written: list[str] = []
    assert remote.logs("scim", 5, False, written.append) == 3
    assert written == ["scim-1  | started", "scim-1  | ready"] and output.channel.closed
