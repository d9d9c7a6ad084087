"""Ready-to-paste configurations for MCP clients, each in the client's own format.

Every client reaches the lab's gateway over Streamable HTTP with the bearer token in the
`Authorization` header. Claude Desktop's configuration file only starts local (stdio) servers,
so it goes through the `mcp-remote` bridge from npm, the route Anthropic documents for remote servers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

NAME = "okta-lab"


@dataclass(frozen=True)
class ClientConfig:
    client: str
    where: str  # the file it goes in
    text: str  # the JSON to paste


def _claude(url: str, token: str) -> dict[str, object]:
    return {
        "mcpServers": {
            NAME: {
                "command": "npx",
                "args": ["-y", "mcp-remote", url, "--header", "Authorization:${LAB_MCP_AUTH}"],
                "env": {"LAB_MCP_AUTH": f"Bearer {token}"},
            }
        }
    }


def _vscode(url: str, token: str) -> dict[str, object]:
    return {"servers": {NAME: {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {token}"}}}}


def _gemini(url: str, token: str) -> dict[str, object]:
    return {"mcpServers": {NAME: {"httpUrl": url, "headers": {"Authorization": f"Bearer {token}"}}}}


def _cursor(url: str, token: str) -> dict[str, object]:
    return {"mcpServers": {NAME: {"url": url, "headers": {"Authorization": f"Bearer {token}"}}}}


CLIENTS = {
    "claude": ("claude_desktop_config.json (Claude Desktop: Settings > Developer > Edit Config)", _claude),
    "vscode": (".vscode/mcp.json in your workspace (VS Code)", _vscode),
    "gemini": ("~/.gemini/settings.json (Gemini CLI)", _gemini),
    "cursor": ("~/.cursor/mcp.json (Cursor)", _cursor),
}


def client_config(client: str, url: str, token: str) -> ClientConfig:
    """The configuration of `client` (a key of CLIENTS) for the gateway at `url`."""
    where, build = CLIENTS[client]
    return ClientConfig(client, where, json.dumps(build(url, token), indent=2))
