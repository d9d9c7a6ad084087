"""Service states from `docker inspect` documents (local SDK or a remote host's CLI alike)."""

from __future__ import annotations

from pathlib import Path

from lab.context import LabContext
from lab.state import LabState
from lab.targets.docker import service_states


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


def test_remote_records_round_trip_and_old_files_still_read(tmp_path: Path) -> None:
    from lab.host.inventory import SshTarget
    from lab.state import DockerLocal, DockerRemote

    ctx = LabContext(root=tmp_path)
    host = SshTarget("ci", "127.0.0.1", port=2222)
    LabState(target=DockerRemote(host, "/opt/okta-lab/p1"), project="p1", services=["db"]).save(ctx)
    loaded = LabState.load(ctx)
    assert loaded is not None and loaded.target == DockerRemote(host, "/opt/okta-lab/p1")
    old = {"target": "docker", "project": "p1", "remote": {"target": host.__dict__, "dir": "/opt/okta-lab/p1"}}
    assert LabState.from_dict(old).target == DockerRemote(host, "/opt/okta-lab/p1")
    assert LabState.from_dict({"target": "docker"}).target == DockerLocal()


class _Channel:
    def __init__(self, status: int = 0) -> None:
        self.closed_write = self.closed = False
        self.status = status

    def shutdown_write(self) -> None:
        self.closed_write = True

    def recv_exit_status(self) -> int:
        return -1 if self.closed else self.status  # like paramiko: closing first loses the status

    def close(self) -> None:
        self.closed = True


class _Stream:
    def __init__(self, data: bytes = b"", lines: list[str] | None = None, status: int = 0) -> None:
        self.data, self.written, self.channel = data, "", _Channel(status)
        self.lines = iter(lines or [])

    def write(self, text: str | bytes) -> None:  # paramiko's stdin takes both
        self.written += text.decode() if isinstance(text, bytes) else text

    def flush(self) -> None:
        pass

    def read(self) -> bytes:
        return self.data

    def readline(self) -> str:
        return next(self.lines, "")


class _Ssh:
    def __init__(self, out: _Stream) -> None:
        self.commands: list[str] = []
        self.stdin = _Stream()
        self.out = out

    def exec_command(self, command: str, timeout: float | None = None) -> tuple[_Stream, _Stream, _Stream]:
        self.commands.append(command)
        return self.stdin, self.out, _Stream()

    def close(self) -> None:
        pass


def _runner(tmp_path: Path, out: _Stream) -> tuple[object, _Ssh]:
    from lab.host.inventory import SshTarget
    from lab.host.ssh import SshRunner

    ssh = _Ssh(out)
    runner = SshRunner(SshTarget("ci", "127.0.0.1"), tmp_path / "kh")
    runner._client = ssh  # type: ignore[assignment]
    return runner, ssh


def test_remote_exec_passes_secrets_on_stdin_not_on_a_command_line(tmp_path: Path) -> None:
    from lab.targets.base import ServiceExec
    from lab.targets.compose import Compose
    from lab.targets.docker import ComposeTarget

    runner, ssh = _runner(tmp_path, _Stream(b"USER_ID\nrey\n"))
    target = ComposeTarget("p", "/opt/okta-lab/p", runner, Compose("v2", "2", ("docker", "compose")), {})  # type: ignore[arg-type]
    target.container = lambda service: "p-db-1"  # type: ignore[method-assign]
    code, out = ServiceExec(target, "db").exec_run(["mariadb", "-e", "SELECT 1"], {"MYSQL_PWD": "s3cret"})
    assert (code, out) == (0, b"USER_ID\nrey\n")
    assert "s3cret" not in ssh.commands[0] and ssh.stdin.written == "s3cret\n" and ssh.stdin.channel.closed_write
    assert ssh.commands[0].endswith("docker exec -e MYSQL_PWD p-db-1 mariadb -e 'SELECT 1'")


def test_remote_logs_returns_the_status_compose_exited_with(tmp_path: Path) -> None:
    from lab.targets.compose import Compose
    from lab.targets.docker import ComposeTarget

    output = _Stream(lines=["\x1b[36mscim-1  | \x1b[0mstarted\n", "scim-1  | ready\n"], status=3)
    runner, ssh = _runner(tmp_path, output)
    target = ComposeTarget("p", "/opt/okta-lab/p", runner, Compose("v2", "2", ("docker", "compose")), {})  # type: ignore[arg-type]
    written: list[str] = []
    assert target.logs("scim", 5, False, written.append) == 3
    assert "logs --no-color --tail 5 scim" in ssh.commands[0] and ssh.commands[0].startswith("cd /opt/okta-lab/p && ")
    assert written == ["scim-1  | started", "scim-1  | ready"] and output.channel.closed


def test_dry_run_shows_changes_and_runs_queries(tmp_path: Path) -> None:
    runner, ssh = _runner(tmp_path, _Stream(b"2.26.1\n"))
    runner.dry_run = True  # type: ignore[attr-defined]
    assert runner.run(["rm", "-rf", "/opt/okta-lab/p"]).ok  # type: ignore[attr-defined]
    assert ssh.commands == []
    from lab.targets.compose import detect_compose

    assert detect_compose(runner).variant == "v2"  # type: ignore[arg-type]
    assert ssh.commands == ["docker compose version --short"]


def test_sudo_password_goes_first_on_stdin_never_on_the_command_line(tmp_path: Path) -> None:
    """`sudo -k -S -p ''` reads the password up to its newline; the env values and input follow."""
    runner, ssh = _runner(tmp_path, _Stream(b"ok\n"))
    runner.become, runner.become_password = True, "pw with 'quotes'"  # type: ignore[attr-defined]
    runner.query(["docker", "ps"], env={"SECRET": "s3"}, input="tail")  # type: ignore[attr-defined]
    assert ssh.commands[0].startswith("sudo -k -S -p '' -- sh -c ")
    assert "pw with" not in ssh.commands[0] and "s3" not in ssh.commands[0]
    assert ssh.stdin.written == "pw with 'quotes'\ns3\ntail"
    runner.become_password = None  # type: ignore[attr-defined]
    runner.query(["docker", "ps"])  # type: ignore[attr-defined]
    assert ssh.commands[1].startswith("sudo -n -- sh -c ") and ssh.stdin.written.endswith("tail")
