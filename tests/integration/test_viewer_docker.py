"""`lab up viewer` + `lab verify viewer` on Docker, idempotence, and host-side seeding into the
bind-mounted recordings folder."""

from __future__ import annotations

import re

import docker
import httpx
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def viewer_lab(make_lab):  # type: ignore[no-untyped-def]
    return make_lab(["viewer"], {"VIEWER_SEED_COUNT": "6"}, name="viewer")


def container_id(project: str) -> str:
    found = docker.from_env().containers.list(
        filters={"label": [f"com.docker.compose.project={project}", "com.docker.compose.service=viewer"]}
    )
    assert len(found) == 1
    return str(found[0].id)


def test_verify_passes(viewer_lab) -> None:  # type: ignore[no-untyped-def]
    result = viewer_lab.verify("viewer")
    assert "checks passed" in result.stdout, result.stdout + result.stderr


def test_second_up_changes_nothing(viewer_lab) -> None:  # type: ignore[no-untyped-def]
    before = container_id(viewer_lab.cfg.core.project)
    viewer_lab.up("viewer")
    assert container_id(viewer_lab.cfg.core.project) == before


def test_host_seed_shows_up_after_refresh(viewer_lab) -> None:  # type: ignore[no-untyped-def]
    cfg = viewer_lab.cfg
    out = viewer_lab.run("viewer", "seed", "--count", "10", "--json").stdout
    assert '"skipped": 6' in out  # the first 6 were seeded by the container on first start
    client = httpx.Client(base_url=f"http://127.0.0.1:{cfg.viewer.port}", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf": token, "username": cfg.viewer.admin_user,
                                "password": cfg.viewer.admin_password})  # fmt: skip
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sessions").text).group(1)  # type: ignore[union-attr]
    client.post("/refresh", data={"csrf": token})
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get("/health").json()["recordings"] == 10:
            break
        time.sleep(0.5)
    assert client.get("/health").json()["recordings"] == 10


def test_behind_docker_proxy_one_client_cannot_lock_out_everyone(viewer_lab) -> None:  # type: ignore[no-untyped-def]
    """Through the published 127.0.0.1 port every client reaches the container from the bridge
    gateway (docker-proxy), so the address is one bucket; a browser that signed in before keeps
    its own budget (device cookie). Runs last: it spends the address budget."""
    cfg = viewer_lab.cfg
    base = f"http://127.0.0.1:{cfg.viewer.port}"

    def attempt(client: httpx.Client, password: str) -> int:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        form = {"csrf": token, "username": cfg.viewer.admin_user, "password": password}
        return client.post("/login", data=form).status_code

    with httpx.Client(base_url=base, timeout=10) as regular, httpx.Client(base_url=base, timeout=10) as attacker:
        assert attempt(regular, cfg.viewer.admin_password) == 303
        token = re.search(r'name="csrf" value="([^"]+)"', regular.get("/").text).group(1)  # type: ignore[union-attr]
        assert regular.post("/logout", data={"csrf": token}).status_code == 303  # keeps its device cookie
        codes = [attempt(attacker, "wrong-password") for _ in range(cfg.viewer.login_rate + 1)]
        assert codes[-1] == 429, codes
        with httpx.Client(base_url=base, timeout=10) as newcomer:  # no device cookie: the shared address
            assert attempt(newcomer, cfg.viewer.admin_password) == 429
        assert attempt(regular, cfg.viewer.admin_password) == 303  # not locked out
