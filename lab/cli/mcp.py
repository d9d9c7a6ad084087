"""`lab mcp config|tools|call`: paste-ready client configurations, and the lab's own MCP client."""

from __future__ import annotations

import typer

from lab.cli.common import console, lab_context, print_json
from lab.config import LabConfig
from lab.errors import Problem, TargetError, UsageError, VerifyError

app = typer.Typer(help="The MCP lab: client configurations, list and call the Okta MCP server's tools.",
                  no_args_is_help=True)  # fmt: skip


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mcp")


def _need_sdk() -> None:
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise UsageError(
            Problem("the MCP Python SDK is not installed", "run `make venv`, or pip install 'okta-lab[mcp]'")
        ) from None


def gateway_url(cfg: LabConfig) -> str:
    """The gateway's Streamable HTTP endpoint as this machine reaches it."""
    host = "127.0.0.1" if cfg.core.publishes_everywhere else cfg.core.url_host
    return f"http://{host}:{cfg.mcp.port}/mcp"


def _failed(url: str, exc: BaseException) -> TargetError:
    """One line for a gateway that does not answer, refuses the token, or breaks off."""
    text = _root_cause(exc)
    if "401" in text:
        return TargetError(Problem(f"{url} refused the bearer token (401)", "check MCP_GATEWAY_TOKEN: `lab creds mcp`"))
    return TargetError(Problem(f"cannot talk MCP to {url}: {text}", "is the lab up? `lab up mcp`, then `lab status`"))


def _root_cause(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@app.command("config")
def config_cmd(
    ctx: typer.Context,
    client: str = typer.Option("", "--client", help="claude | vscode | gemini | cursor (default: all four)."),
) -> None:
    """Print the ready-to-paste MCP client configuration (URL, bearer token header) per client."""
    from lab.mcp.clients import CLIENTS, client_config

    if client and client not in CLIENTS:
        raise UsageError(Problem(f"--client {client!r} is not known", f"use one of {', '.join(CLIENTS)}"))
    cfg = LabConfig.from_env(lab_context(ctx).env_path)
    for name in [client] if client else list(CLIENTS):
        found = client_config(name, gateway_url(cfg), cfg.mcp.gateway_token)
        if not client:
            console.print(f"# {name}: {found.where}", markup=False, soft_wrap=True)
        console.print(found.text, markup=False, soft_wrap=True)


@app.command("tools")
def tools_cmd(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List the Okta MCP server's tools through the gateway (MCP Python SDK, bearer token)."""
    _need_sdk()
    from lab.mcp.session import list_tools

    cfg = LabConfig.from_env(lab_context(ctx).env_path)
    url = gateway_url(cfg)
    try:
        tools = list_tools(url, cfg.mcp.gateway_token)
    except Exception as exc:  # noqa: BLE001 - any transport failure becomes one line
        raise _failed(url, exc) from None
    if as_json:
        print_json([{"name": t.name, "description": t.description} for t in tools])
        return
    for t in tools:
        console.print(f"{t.name}  {t.description}", markup=False, soft_wrap=True)
    console.print(f"{len(tools)} tools at {url}", markup=False)


@app.command("call")
def call_cmd(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help="The tool's name (see `lab mcp tools`)."),
    arg: list[str] = typer.Option([], "--arg", help="An argument as KEY=VALUE (JSON values are parsed); repeat."),
) -> None:
    """Call one tool through the gateway and print its result (exit 1 when the tool reports an error)."""
    _need_sdk()
    from lab.mcp.session import call_tool, parse_args

    try:
        args = parse_args(arg)
    except ValueError as exc:
        raise UsageError(
            Problem(f"--arg {exc} is not KEY=VALUE", "e.g. --arg limit=20 --arg search='status eq \"ACTIVE\"'")
        ) from None
    cfg = LabConfig.from_env(lab_context(ctx).env_path)
    url = gateway_url(cfg)
    try:
        result = call_tool(url, cfg.mcp.gateway_token, tool, args)
    except Exception as exc:  # noqa: BLE001
        raise _failed(url, exc) from None
    console.print(result.text, markup=False, soft_wrap=True)
    if result.is_error:
        first = result.text.strip().splitlines()[0][:200] if result.text.strip() else "no detail"
        raise VerifyError(Problem(f"{tool} returned an error: {first}", "see `lab logs okta-mcp`"))
