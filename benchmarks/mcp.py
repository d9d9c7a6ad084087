"""MCP lab benchmark (issue 14): a tool call through the gateway vs the same call over stdio.

Brings up an `mcp` lab against the fake Okta org of the tests (HTTPS, test CA), then prints:
  - p50/p95 of one `list_users` call in an open MCP session through the gateway (MCP SDK on this
    machine -> nginx -> supergateway -> okta-mcp-server -> the fake), and of the same call over
    stdio (the server's own MCP SDK inside the container spawning okta-mcp-server directly, with
    the gateway's environment), and their ratio (target: gateway <= 1.3x stdio);
  - the container's memory at rest (no session open): docker's figure and the RSS per process.

Usage: .venv/bin/python benchmarks/mcp.py [--calls 50] [--keep] [--lab DIR]
(--lab: measure an mcp lab that is already up, against whatever org it is set up for)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from _common import lab, new_lab, pct

# This file is named like the MCP SDK's package: take its folder off the path before the SDK loads.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from lab.config import LabConfig  # noqa: E402
from lab.mcp.session import _with_session  # noqa: E402
from tests.fakes.okta import FakeOkta, TestCA, pem, rsa_key  # noqa: E402

# Runs inside the container as okta-mcp: the server over stdio with supergateway's environment.
STDIO = r"""
import asyncio, json, os, sys, time
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
pid = next(p for p in os.listdir("/proc") if p.isdigit() and b"supergateway" in open(f"/proc/{p}/cmdline", "rb").read())
env = dict(e.split("=", 1) for e in open(f"/proc/{pid}/environ").read().split("\0") if "=" in e)
async def main():
    params = StdioServerParameters(command="/opt/okta-mcp/venv/bin/okta-mcp-server", env=env)
    async with stdio_client(params, errlog=open(os.devnull, "w")) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            await s.call_tool("list_users", {})
            out = []
            for _ in range(int(sys.argv[1])):
                t = time.perf_counter(); await s.call_tool("list_users", {}); out.append(time.perf_counter() - t)
            print(json.dumps(out))
asyncio.run(main())
"""


def _bridge() -> str:
    out = subprocess.run(["docker", "network", "inspect", "bridge", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    return out or "172.17.0.1"


def gateway_calls(url: str, token: str, n: int) -> list[float]:
    async def work(session) -> list[float]:  # type: ignore[no-untyped-def]
        await session.call_tool("list_users", {})
        out = []
        for _ in range(n):
            start = time.perf_counter()
            await session.call_tool("list_users", {})
            out.append(time.perf_counter() - start)
        return out

    return list(anyio.run(_with_session, url, token, work, 60))


def container_of(cfg: LabConfig) -> str:
    return subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={cfg.core.project}",
         "--filter", "label=com.docker.compose.service=okta-mcp"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    parser.add_argument("--lab", type=Path, help="an mcp lab that is already up")
    args = parser.parse_args()
    if args.lab:
        measure(args.lab, args.calls)
        return

    folder = Path(tempfile.mkdtemp(prefix="lab-bench-fake-okta-"))
    key = rsa_key()
    key_file = folder / "okta-mcp.pem"
    key_file.write_bytes(pem(key))
    key_file.chmod(0o600)
    fake = FakeOkta(
        "0oabench", "bench-key", key.public_key(), TestCA(folder / "ca", "fakeorg.okta-lab.test"), bind=_bridge()
    )
    server = fake.serve()
    root = new_lab(["mcp"], {
        "OKTA_ORG": f"fakeorg.okta-lab.test:{fake.port}", "OKTA_MCP_CLIENT_ID": "0oabench",
        "OKTA_MCP_KEY_ID": "bench-key", "OKTA_MCP_PRIVATE_KEY_FILE": str(key_file),
        "OKTA_MCP_EXTRA_HOSTS": "fakeorg.okta-lab.test:host-gateway",
        "LAB_EXTRA_CA_CERTS": f"/usr/local/share/ca-certificates,{fake.ca.ca_file}",
    })  # fmt: skip
    try:
        start = time.perf_counter()
        lab(root, "up", "mcp")
        print(f"lab up mcp (build included): {time.perf_counter() - start:.1f}s")
        measure(root, args.calls)
    finally:
        if not args.keep:
            lab(root, "destroy", "--yes")
        server.shutdown()


def measure(root: Path, calls: int) -> None:
    """Print the latencies and the memory of the running lab in `root`."""
    cfg = LabConfig.from_env(root / ".env")
    cid = container_of(cfg)
    via_gateway = gateway_calls(f"http://127.0.0.1:{cfg.mcp.port}/mcp", cfg.mcp.gateway_token, calls)
    out = subprocess.run(["docker", "exec", "-u", "okta-mcp", cid, "/opt/okta-mcp/venv/bin/python", "-c", STDIO,
                          str(calls)], capture_output=True, text=True, check=True).stdout  # fmt: skip
    via_stdio = json.loads(out.strip().splitlines()[-1])
    for name, values in (("gateway", via_gateway), ("stdio", via_stdio)):
        print(f"list_users via {name:<8} p50 {pct(values, 50) * 1000:7.1f} ms  p95 {pct(values, 95) * 1000:7.1f} ms"
              f"  (n={len(values)})")  # fmt: skip
    ratio50 = pct(via_gateway, 50) / pct(via_stdio, 50)
    ratio95 = pct(via_gateway, 95) / pct(via_stdio, 95)
    verdict = "ok" if ratio50 <= 1.3 else "ABOVE TARGET"
    print(f"ratio gateway/stdio: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x (target <= 1.3x: {verdict})")
    time.sleep(3)  # sessions closed: their server processes end
    stats = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", cid],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    ps = subprocess.run(["docker", "exec", cid, "ps", "-eo", "rss=,user=,comm="], capture_output=True,
                        text=True, check=True).stdout  # fmt: skip
    print(f"memory at rest: {stats} (docker stats)")
    for line in ps.strip().splitlines():
        rss, user, comm = line.split(None, 2)
        if comm != "ps":
            print(f"  {comm:<16} {user:<9} {int(rss) / 1024:6.1f} MiB")


if __name__ == "__main__":
    main()
