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
