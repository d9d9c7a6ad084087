"""The graph enriched from a fake Okta Privileged Access API run in-process on 127.0.0.1.

The fake is a real HTTP server speaking the documented shapes: a service-user token from
`POST /v1/teams/{team}/service_token`, `{"list": [...]}` bodies, pages linked with
`Link: <...>; rel="next"`, 401 for a wrong key secret or an unknown bearer token. The viewer
app runs for real (Starlette TestClient) over a folder of recordings. No Okta host is contacted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.pam import PamClient, PamDirectory, PamError
from lab.viewer.seed import cast_bytes
from lab.viewer.storage import LocalStorage

TEAM, KEY_ID, KEY_SECRET = "galaxy-ops", "5f1c0e2a-0000-4000-8000-00000000c0de", "opa-key-secret-7f3a9c"
PASSWORD = "correct-horse-battery"
PAGE = 2  # the fake's page size, so every list below needs pagination

RESOURCE_GROUPS = [{"id": f"rg-{i}", "name": name} for i, name in enumerate(["prod", "dmz", "lab"])]
PROJECTS = {
    "rg-0": [{"id": "p-core", "name": "Core-Infrastructure"}, {"id": "p-db", "name": "database-fleet"},
             {"id": "p-gone", "name": "retired", "deleted_at": "2026-01-01T00:00:00Z"}],
    "rg-1": [{"id": "p-edge", "name": "edge"}],
    "rg-2": [],
}  # fmt: skip
SERVERS = {
    "p-core": ["BASTION-01", "dns-01", "vault-01", "ntp-01"],
    "p-db": ["db-primary"],
    "p-edge": ["gw-1", "gw-2", "gw-3"],
}
RECORDINGS = [
    ("galaxy-ops", "core-infrastructure", "bastion-01"),
    ("galaxy-ops", "core-infrastructure", "bastion-01"),
    ("galaxy-ops", "core-infrastructure", "dns-01"),
    ("galaxy-ops", "database-fleet", "db-primary"),
    ("galaxy-ops", "database-fleet", "db-replica-1"),
    ("rebel-dev", "staging", "app-stg-1"),
]


@dataclass
class FakeOpa:
    """State of the fake tenant; tests flip `fail`, `delay` (one slow answer), `foreign_next`
    and `tokens`."""

    url: str = ""
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    requests: list[str] = field(default_factory=list)
    fail: bool = False
    delay: float = 0.0
    foreign_next: bool = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_api(state: FakeOpa) -> Starlette:
    def authorised(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in state.tokens

    async def service_token(request: Request) -> Response:
        body = await request.json()
        if request.path_params["team"] != TEAM:
            return JSONResponse({"message": "team not found"}, status_code=404)
        if (body.get("key_id"), body.get("key_secret")) != (KEY_ID, KEY_SECRET):
            return JSONResponse({"message": "invalid credentials"}, status_code=401)
        token = secrets.token_urlsafe(24)
        state.tokens.add(token)
        state.issued += 1
        return JSONResponse({"bearer_token": token, "expires_at": "2099-01-01T00:00:00.123456789Z", "team_name": TEAM})

    async def listing(request: Request, items: list[dict[str, Any]]) -> Response:
        state.requests.append(request.url.path + ("?" + request.url.query if request.url.query else ""))
        if state.delay:  # one slow answer
            delay, state.delay = state.delay, 0.0
            await asyncio.sleep(delay)
        if not authorised(request):
            return JSONResponse({"message": "unauthorized"}, status_code=401)
        if state.fail:
            return JSONResponse({"message": "boom"}, status_code=500)
        offset = int(request.query_params.get("offset", "0"))
        headers = {}
        if offset + PAGE < len(items):
            base = "http://elsewhere.invalid" if state.foreign_next else state.url
            headers["Link"] = f'<{base}{request.url.path}?{urlencode({"offset": offset + PAGE})}>; rel="next"'
        return JSONResponse({"list": items[offset : offset + PAGE]}, headers=headers)

    async def resource_groups(request: Request) -> Response:
        return await listing(request, RESOURCE_GROUPS)

    async def projects(request: Request) -> Response:
        return await listing(request, PROJECTS.get(request.path_params["rg"], []))

    async def servers(request: Request) -> Response:
        names = SERVERS.get(request.path_params["project"], [])
        items = [{"id": f"{request.path_params['project']}-{n}", "hostname": n, "os_type": "linux",
                  "access_address": f"10.1.0.{i}", "canonical_name": n} for i, n in enumerate(names)]  # fmt: skip
        return await listing(request, items)

    async def gateways(request: Request) -> Response:
        return await listing(request, [{"id": "g1", "name": "gateway-a"}, {"id": "g2", "name": "gateway-b"}])

    t = "/v1/teams/{team}"
    return Starlette(routes=[
        Route(f"{t}/service_token", service_token, methods=["POST"]),
        Route(f"{t}/resource_groups", resource_groups),
        Route(f"{t}/resource_groups/{{rg}}/projects", projects),
        Route(f"{t}/resource_groups/{{rg}}/projects/{{project}}/servers", servers),
        Route(f"{t}/gateways", gateways),
    ])  # fmt: skip


@pytest.fixture(scope="module")
def opa() -> Iterator[FakeOpa]:
    port = free_port()
    state = FakeOpa(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(fake_api(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the fake OPA API did not start"
    yield state
    server.should_exit = True
    thread.join(10)


@pytest.fixture(autouse=True)
def reset(opa: FakeOpa) -> None:
    opa.tokens.clear()
    opa.requests.clear()
    opa.issued, opa.fail, opa.delay, opa.foreign_next = 0, False, 0.0, False


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recordings")
    for i, (team, project, server) in enumerate(RECORDINGS):
        name = f"ssh~20260301T10{i:02d}00.0001~{team}~{project}~{server}~leia.organa~-1-{i:08x}.cast"
        (root / name).write_bytes(cast_bytes([[0.5, "o", "$ exit\r\n"]], datetime(2026, 3, 1, 10, tzinfo=UTC), "s"))
    return root


def settings(url: str, secret: str = KEY_SECRET) -> ViewerSettings:
    return ViewerSettings.model_validate({
        "VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "g" * 48,
        "VIEWER_PAM_URL": url, "VIEWER_PAM_TEAM": TEAM, "VIEWER_PAM_KEY_ID": KEY_ID,
        "VIEWER_PAM_KEY_SECRET": secret,
    })  # fmt: skip


def signed_in(client: TestClient) -> TestClient:
    html = client.get("/login").text
    token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"csrf": token, "username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    return client


def graph_page(url: str, folder: Path, secret: str = KEY_SECRET) -> tuple[int, str]:
    app = create_app(settings(url, secret), LocalStorage(folder), background_index=False)
    with TestClient(app) as c:
        r = signed_in(c).get("/graph")
        return r.status_code, r.text


def test_graph_is_enriched_from_the_api(opa: FakeOpa, folder: Path) -> None:
    status, html = graph_page(opa.url, folder)
    assert status == 200
    assert "pam-notice" not in html
    assert "team galaxy-ops: 3 projects, 8 servers, gateways gateway-a, gateway-b" in html
    assert "vault-01 (no recordings)" in html and "gw-3 (no recordings)" in html  # enrolled, unrecorded
    assert "BASTION-01 (2)" in html and "Core-Infrastructure (3)" in html  # OPA's names label the graph
    assert 'href="/sessions?server=bastion-01"' in html  # links still filter by the recorded name
    assert "db-replica-1 (1)" in html and "not in Okta Privileged Access" in html  # recorded, unknown: stays
    assert "app-stg-1 (1)" in html and "rebel-dev" in html  # other teams untouched
    assert "retired" not in html  # deleted projects are skipped


def test_every_list_is_paginated_and_the_token_is_reused(opa: FakeOpa, folder: Path) -> None:
    app = create_app(settings(opa.url), LocalStorage(folder), background_index=False)
    pam = app.state.viewer.pam
    assert pam is not None and pam.state.inventory is not None
    assert f"/v1/teams/{TEAM}/resource_groups?offset=2" in opa.requests
    assert f"/v1/teams/{TEAM}/resource_groups/rg-0/projects?offset=2" in opa.requests
    assert f"/v1/teams/{TEAM}/resource_groups/rg-0/projects/p-core/servers?offset=2" in opa.requests
    assert f"/v1/teams/{TEAM}/resource_groups/rg-1/projects/p-edge/servers?offset=2" in opa.requests
    first = len(opa.requests)
    pam.refresh_now()  # the next scheduled refresh
    assert opa.issued == 1 and len(opa.requests) == 2 * first


def test_a_revoked_token_is_replaced_once(opa: FakeOpa) -> None:
    directory = PamDirectory(PamClient(opa.url, TEAM, KEY_ID, KEY_SECRET))
    assert not directory.refresh_now().error
    opa.tokens.clear()  # the tenant forgets every token before it expires
    state = directory.refresh_now()
    assert not state.error and opa.issued == 2
    assert state.inventory is not None and state.inventory.server_count == 8


def test_wrong_secret_keeps_the_name_graph_with_a_notice(
    opa: FakeOpa, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, html = graph_page(opa.url, folder, secret="wrong-secret-value-123")
    assert status == 200
    assert "pam-notice" in html and "refused the service user&#39;s key (HTTP 401)" in html
    assert "built from recording names only" in html
    assert "bastion-01 (2)" in html and "vault-01" not in html  # names only
    assert "wrong-secret-value-123" not in html and "wrong-secret-value-123" not in caplog.text
    assert opa.issued == 0 and not opa.requests


def test_unreachable_api_is_a_notice_not_an_error(folder: Path) -> None:
    status, html = graph_page(f"http://127.0.0.1:{free_port()}", folder)
    assert status == 200 and "pam-notice" in html and "cannot reach" in html
    assert "bastion-01 (2)" in html


def test_a_failing_api_keeps_the_last_inventory(opa: FakeOpa, folder: Path) -> None:
    app = create_app(settings(opa.url), LocalStorage(folder), background_index=False)
    opa.fail = True
    app.state.viewer.pam.refresh_now()
    with TestClient(app) as c:
        html = signed_in(c).get("/graph").text
    assert "HTTP 500" in html and "showing its inventory from" in html
    assert "vault-01 (no recordings)" in html


def test_a_next_page_on_another_host_is_refused(opa: FakeOpa) -> None:
    opa.foreign_next = True
    with pytest.raises(PamError, match="another host"):
        PamClient(opa.url, TEAM, KEY_ID, KEY_SECRET).inventory()
    assert all(not r.startswith("http") for r in opa.requests)


def test_the_page_never_waits_for_the_api(opa: FakeOpa, folder: Path) -> None:
    opa.delay = 4.0  # far above the bound below, so a loaded CI machine cannot blur the two
    app = create_app(settings(opa.url), LocalStorage(folder))  # background refresh, as served
    with TestClient(app) as c:
        signed_in(c)
        started = time.monotonic()
        r = c.get("/graph")
        assert time.monotonic() - started < 2.0
        assert r.status_code == 200 and "Reading Okta Privileged Access" in r.text
        deadline = time.monotonic() + 30
        while app.state.viewer.pam.state.inventory is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "vault-01 (no recordings)" in c.get("/graph").text


def test_refresh_button_also_refreshes_the_inventory(opa: FakeOpa, folder: Path) -> None:
    app = create_app(settings(opa.url), LocalStorage(folder))
    with TestClient(app) as c:
        signed_in(c)
        pam = app.state.viewer.pam
        deadline = time.monotonic() + 20
        while pam.state.checked_at is None and time.monotonic() < deadline:
            time.sleep(0.1)
        first = pam.state.checked_at
        html = c.get("/sessions").text
        token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert c.post("/refresh", data={"csrf": token}, follow_redirects=False).status_code == 303
        while pam.state.checked_at == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pam.state.checked_at != first


def test_a_merge_bug_falls_back_to_names_not_a_500(opa: FakeOpa, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.viewer import pages

    real = pages.build_graph

    def broken(tree: Any, inventory: Any = None) -> Any:
        if inventory is not None:
            raise KeyError("surprise")
        return real(tree)

    monkeypatch.setattr(pages, "build_graph", broken)
    status, html = graph_page(opa.url, folder)
    assert status == 200 and "bastion-01 (2)" in html and "vault-01" not in html
