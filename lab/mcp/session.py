"""Talk to the lab's MCP gateway with the official MCP Python SDK (Streamable HTTP + bearer token)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio


@dataclass(frozen=True)
class Tool:
    name: str
    description: str


@dataclass(frozen=True)
class CallResult:
    tool: str
    is_error: bool
    text: str  # the tool's text content, joined
    data: Any = None  # the text parsed as JSON, when it is JSON


async def _with_session(url: str, token: str, work: Callable[[Any], Awaitable[Any]], timeout: float) -> Any:
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"}
    http = create_mcp_http_client(headers=headers, timeout=httpx.Timeout(timeout, read=max(timeout, 300)))
    async with (
        http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await work(session)


def list_tools(url: str, token: str, timeout: float = 60) -> list[Tool]:
    async def work(session: Any) -> list[Tool]:
        result = await session.list_tools()
        return [
            Tool(t.name, (t.description or "").strip().splitlines()[0] if t.description else "") for t in result.tools
        ]

    return anyio.run(_with_session, url, token, work, timeout)


def call_tool(url: str, token: str, tool: str, args: dict[str, Any], timeout: float = 60) -> CallResult:
    async def work(session: Any) -> CallResult:
        result = await session.call_tool(tool, args)
        return to_result(tool, result)

    return anyio.run(_with_session, url, token, work, timeout)


def to_result(tool: str, result: Any) -> CallResult:
    """An SDK CallToolResult as a CallResult (text joined; JSON parsed; an `error` key counts as an error)."""
    text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    error = (
        bool(result.isError)
        or (isinstance(data, dict) and "error" in data)
        or (isinstance(data, list) and bool(data) and isinstance(data[0], dict) and set(data[0]) == {"error"})
    )
    return CallResult(tool, error, text, data)


def parse_args(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs -> arguments; a value that parses as JSON (number, true, list...) is taken as such."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(pair)
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out
