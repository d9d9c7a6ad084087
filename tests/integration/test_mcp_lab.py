"""`lab up mcp` for real, against a fake Okta org served by this module over HTTPS with a test CA.

The chain under test: the MCP Python SDK -> nginx (bearer token) -> supergateway -> okta-mcp-server
-> the fake org (a private_key_jwt token request, checked in full, then Management API calls with
`Link` pagination). The container reaches the fake on the Docker bridge's gateway address (the
host as seen from containers; never published beyond this machine), by a name the test CA
certifies, through OKTA_MCP_EXTRA_HOSTS. One lab for the whole module; the revoked-token case last.
"""

from __future__ import annotations

import json
import subprocess

import docker
import httpx
import pytest

from tests.fakes.okta import FakeOkta, TestCA, pem, rsa_key

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ORG_HOST = "fakeorg.okta-lab.test"
CLIENT_ID = "0oa1labmcp000000000x"
KEY_ID = "lab-mcp-test-key"


def _bridge_gateway() -> str:
    out = subprocess.run(
        ["docker", "network", "inspect", "bridge", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return out or "172.17.0.1"


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory, docker_engine: None) -> FakeOkta:  # type: ignore[misc]
    folder = tmp_path_factory.mktemp("fake-okta")
    key = rsa_key()
    key_file = folder / "okta-mcp.pem"
    key_file.write_bytes(pem(key))
    key_file.chmod(0o600)
    fake = FakeOkta(CLIENT_ID, KEY_ID, key.public_key(), TestCA(folder / "ca", ORG_HOST), bind=_bridge_gateway())
    fake.key_file = key_file  # type: ignore[attr-defined]
    server = fake.serve()
    yield fake  # type: ignore[misc]
    server.shutdown()


@pytest.fixture(scope="module")
def mlab(make_lab, fake: FakeOkta):  # type: ignore[no-untyped-def]
    env = {
        "OKTA_ORG": f"{ORG_HOST}:{fake.port}",
        "OKTA_MCP_CLIENT_ID": CLIENT_ID,
        "OKTA_MCP_KEY_ID": KEY_ID,
        "OKTA_MCP_PRIVATE_KEY_FILE": str(fake.key_file),  # type: ignore[attr-defined]
        "OKTA_MCP_EXTRA_HOSTS": f"{ORG_HOST}:host-gateway",
        "LAB_EXTRA_CA_CERTS": f"/usr/local/share/ca-certificates,{fake.ca.ca_file}",
    }
    return make_lab(["mcp"], env, name="mcp")


def _url(mlab) -> str:  # type: ignore[no-untyped-def]
    return f"http://127.0.0.1:{mlab.cfg.mcp.port}/mcp"


def test_verify_passes(mlab) -> None:  # type: ignore[no-untyped-def]
    result = mlab.verify("mcp")
    assert "checks passed" in result.stdout, result.stdout + result.stderr


def test_the_token_request_carried_a_valid_client_assertion(mlab, fake: FakeOkta) -> None:  # type: ignore[no-untyped-def]
    assert fake.issued and not fake.refused, fake.refused


def test_tools_lists_the_servers_tools(mlab) -> None:  # type: ignore[no-untyped-def]
    tools = {t["name"] for t in json.loads(mlab.run("mcp", "tools", "--json").stdout)}
    assert {"list_users", "get_user", "list_groups", "get_scope_status"} <= tools
    assert "create_user" not in tools  # okta.users.manage is not granted: the server hides it


def test_call_list_users_returns_the_fakes_users_page_by_page(mlab, fake: FakeOkta) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(mlab.run("mcp", "call", "list_users").stdout)
    assert first["total_fetched"] == 20 and first["has_more"] is True, first
    every = json.loads(mlab.run("mcp", "call", "list_users", "--arg", "fetch_all=true").stdout)
    logins = sorted(json.dumps(item) for item in every["items"])
    assert every["total_fetched"] == 25 and len(logins) == 25, every
    assert all("@galaxy.local" in item for item in logins)
    assert any("after=" in r for r in fake.requests if r.startswith("GET /api/v1/users?")), fake.requests


def test_get_user_and_list_groups_through_one_sdk_session(mlab, fake: FakeOkta) -> None:  # type: ignore[no-untyped-def]
    import anyio

    from lab.mcp.session import _with_session, to_result

    async def work(session):  # type: ignore[no-untyped-def]
        user = await session.call_tool("get_user", {"user_id": fake.users[3]["id"]})
        groups = await session.call_tool("list_groups", {})
        return to_result("get_user", user), to_result("list_groups", groups)

    user, groups = anyio.run(_with_session, _url(mlab), mlab.cfg.mcp.gateway_token, work, 60)
    assert not user.is_error and "tk004@galaxy.local" in user.text, user.text
    assert not groups.is_error and "Rebels" in groups.text and "Empire" in groups.text, groups.text


def test_no_or_wrong_token_is_401(mlab) -> None:  # type: ignore[no-untyped-def]
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    assert httpx.post(_url(mlab), json=body, timeout=10).status_code == 401
    bad = {"Authorization": "Bearer " + "x" * 40}
    assert httpx.post(_url(mlab), json=body, headers=bad, timeout=10).status_code == 401


def test_second_up_changes_nothing(mlab) -> None:  # type: ignore[no-untyped-def]
    client = docker.from_env()
    labels = [f"com.docker.compose.project={mlab.cfg.core.project}"]
    before = sorted((c.id, c.attrs["State"]["StartedAt"]) for c in client.containers.list(filters={"label": labels}))
    mlab.up("mcp")
    after = sorted((c.id, c.attrs["State"]["StartedAt"]) for c in client.containers.list(filters={"label": labels}))
    assert after == before


def test_a_revoked_token_is_a_tool_error_and_the_server_keeps_running(mlab, fake: FakeOkta) -> None:  # type: ignore[no-untyped-def]
    fake.revoke_all()
    proc = mlab.run("mcp", "call", "list_users", check=False)
    assert proc.returncode == 1 and "list_users returned an error" in proc.stderr, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1
    assert httpx.get(_url(mlab).removesuffix("/mcp") + "/healthz", timeout=10).text.strip() == "ok"
    tools = {t["name"] for t in json.loads(mlab.run("mcp", "tools", "--json").stdout)}
    assert "list_users" in tools  # a new session still starts the server
