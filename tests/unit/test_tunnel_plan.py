"""`lab host tunnel`'s plan: every forward gets its own local port, even when the kernel hands
the same free port out twice (seen in CI: two `-L 52423:...`, and ssh refused the second)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from lab.config import LabConfig
from lab.context import LabContext
from lab.host.inventory import SshTarget
from lab.state import DockerRemote
from lab.targets import docker, remote
from tests.hosts.testhost import write_lab


class Socket:
    """A socket whose bind to port 0 gets the ports of `given`, in order."""

    given: list[int] = []

    def __init__(self, *_a: Any) -> None:
        self.port = 0

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *_a: Any) -> None:
        pass

    def bind(self, _addr: tuple[str, int]) -> None:
        self.port = Socket.given.pop(0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_forwards_never_share_a_local_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_lab(tmp_path / "lab", "", LAB_BIND="127.0.0.1")
    ctx = LabContext(root=root)
    config = LabConfig.from_env(ctx.env_path)
    services = ["openldap", "ldap-ui", "db", "dbgate", "scim", "viewer"]
    wanted = remote.published_ports(config, services)
    busy = set(wanted.values())
    monkeypatch.setattr(docker, "port_in_use", lambda _host, port: port in busy)  # every remote port busy here
    Socket.given = [52423, 52423, 52423, 40001, 40002, 52423, 40003, 40004, 40005, 40006]
    monkeypatch.setattr(socket, "socket", Socket)
    plan = remote.plan_tunnel(ctx, config, DockerRemote(SshTarget("h", "127.0.0.1", 2222), "/opt/lab"), services)
    locals_ = [local for _remote, local in plan.ports.values()]
    assert sorted(plan.ports) == sorted(wanted) and len(set(locals_)) == len(locals_) == len(wanted)
    forwards = [plan.argv[i + 1] for i, a in enumerate(plan.argv) if a == "-L"]
    assert len({f.split(":")[0] for f in forwards}) == len(forwards) == len(wanted)
