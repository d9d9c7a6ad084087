"""Checks for the MCP lab (`okta-mcp`: nginx + supergateway + okta-mcp-server), on Docker.

Probes go to the published gateway (MCP_PORT on LAB_BIND): `/healthz` answers without a token,
everything else needs `Authorization: Bearer MCP_GATEWAY_TOKEN`; the real MCP Python SDK lists
the server's tools through it. Inside, every long-running process but the root entrypoint runs as
`okta-mcp`, supergateway listens on loopback only, and the keyring and key stay private.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

KEYRING = "/var/lib/okta-mcp/keyring/python_keyring/keyring_pass.cfg"


@pytest.fixture(scope="module")
def base(lab: Any) -> str:
    return f"http://{lab.addr}:{lab.port('MCP_PORT')}"


def _post(base: str, token: str | None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    return httpx.post(f"{base}/mcp", json=body, headers=headers, timeout=10)


def test_health_answers_without_a_token(lab: Any, base: str) -> None:
    r = lab.wait(lambda: httpx.get(f"{base}/healthz", timeout=10), timeout=60)
    assert r.status_code == 200 and r.text.strip() == "ok", lab.logs("okta-mcp")


def test_requests_without_the_token_are_refused(lab: Any, base: str) -> None:
    r = _post(base, None)
    assert r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.text


def test_requests_with_a_wrong_token_are_refused(lab: Any, base: str) -> None:
    assert _post(base, lab.cfg.mcp.gateway_token[:-1] + "x").status_code == 401
    assert _post(base, lab.cfg.mcp.gateway_token + "x").status_code == 401


def test_the_sdk_lists_the_servers_tools_through_the_gateway(lab: Any, base: str) -> None:
    from lab.mcp.session import list_tools

    names = {t.name for t in list_tools(f"{base}/mcp", lab.cfg.mcp.gateway_token)}
    assert {"list_users", "get_user", "list_groups"} <= names, f"{sorted(names)}\n{lab.logs('okta-mcp')}"


def test_gateway_processes_run_as_okta_mcp(lab: Any) -> None:
    host = lab.host("okta-mcp")
    rows = [line.split(None, 1) for line in host.check_output("ps -eo user:20=,args=").splitlines()]
    gateway = [(u, a) for u, a in rows if "supergateway" in a or a.startswith("nginx")]
    assert len(gateway) >= 3, rows  # supergateway, nginx master and worker
    assert all(u == "okta-mcp" for u, _ in gateway), gateway
    servers = [(u, a) for u, a in rows if "okta-mcp-server" in a and "supergateway" not in a]
    assert all(u == "okta-mcp" for u, _ in servers), servers
    entry = ("/sbin/docker-init", "/bin/bash /usr/local/bin/lab-entrypoint")  # tini, the waiting entrypoint
    root = [a for u, a in rows if u == "root" and not a.startswith(entry) and "ps -eo user" not in a]
    assert not root, root


def test_supergateway_listens_on_loopback_only(lab: Any) -> None:
    host = lab.host("okta-mcp")
    probe = (
        "import socket,sys; a=sys.argv[1]; s=socket.socket(); s.settimeout(2)\n"
        "try: s.connect((a, 8001)); print('open')\nexcept OSError: print('closed')"
    )
    assert host.check_output("python3 -c %s 127.0.0.1", probe) == "open"
    addr = host.check_output("hostname -I").split()[0]
    assert host.check_output("python3 -c %s %s", probe, addr) == "closed"


def test_keyring_is_a_private_file_of_okta_mcp(lab: Any) -> None:
    host = lab.host("okta-mcp")
    f = host.file(KEYRING)
    assert f.is_file and f.user == "okta-mcp" and f.mode == 0o600, (f.user, oct(f.mode))
    assert host.file("/var/lib/okta-mcp").mode == 0o700
    assert host.file("/var/lib/okta-mcp/logs").user == "okta-mcp"


def test_private_key_is_mounted_read_only(lab: Any) -> None:
    host = lab.host("okta-mcp")
    mounts = [line.split() for line in host.file("/proc/mounts").content_string.splitlines()]
    found = [m for m in mounts if m[1] == "/run/secrets/okta-mcp-key"]
    assert found and "ro" in found[0][3].split(","), found
