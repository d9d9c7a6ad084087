"""The MCP lab without Docker: its settings (one line per bad input, exit 2), the client
configurations `lab mcp config` prints, `--arg` parsing, the rendered compose service, and the
keys `lab up mcp` needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lab import RESOURCES
from lab.config import LabConfig
from lab.envfile import render_env
from lab.mcp.clients import CLIENTS, client_config
from lab.mcp.session import parse_args
from tests.conftest import lab_cli
from tests.fakes.okta import pem, rsa_key

URL, TOKEN = "http://127.0.0.1:8000/mcp", "t" * 40


@pytest.fixture()
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "okta.pem"
    path.write_bytes(pem(rsa_key()))
    path.chmod(0o600)
    return path


def project(tmp_path: Path, **overrides: str) -> Path:
    (tmp_path / ".env").write_text(render_env((RESOURCES / ".env.example").read_text(), overrides))
    (tmp_path / ".env").chmod(0o600)
    return tmp_path


def configured(tmp_path: Path, key_file: Path, **more: str) -> Path:
    keys = {"OKTA_ORG": "myorg.okta.com", "OKTA_MCP_CLIENT_ID": "0oa1abc", "OKTA_MCP_KEY_ID": "kid-1",
            "OKTA_MCP_PRIVATE_KEY_FILE": str(key_file)}  # fmt: skip
    return project(tmp_path, **{**keys, **more})


def errors_of(root: Path, *args: str) -> list[str]:
    proc = lab_cli(root, *args, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    return proc.stderr.strip().splitlines()


def test_a_key_file_that_is_not_a_pem_private_key_is_one_line(tmp_path: Path, key_file: Path) -> None:
    key_file.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    lines = errors_of(configured(tmp_path, key_file), "config")
    assert len(lines) == 1 and "holds no PEM private key" in lines[0], lines


def test_a_key_file_others_can_read_is_one_line(tmp_path: Path, key_file: Path) -> None:
    key_file.chmod(0o640)
    lines = errors_of(configured(tmp_path, key_file), "config")
    assert lines == [
        f"error: OKTA_MCP_PRIVATE_KEY_FILE={str(key_file)!r} can be read by other users — run `chmod 600 {key_file}`"
    ]


def test_mcp_keys_without_an_org_is_one_line(tmp_path: Path, key_file: Path) -> None:
    lines = errors_of(configured(tmp_path, key_file, OKTA_ORG=""), "config")
    assert len(lines) == 1 and "OKTA_ORG is not" in lines[0], lines


def test_extra_hosts_must_be_name_ip_pairs(tmp_path: Path) -> None:
    lines = errors_of(project(tmp_path, OKTA_MCP_EXTRA_HOSTS="fakeorg.test"), "config")
    assert len(lines) == 1 and "name:ip or name:host-gateway" in lines[0], lines


def test_up_mcp_without_the_keys_names_them_in_one_line(tmp_path: Path) -> None:
    lines = errors_of(project(tmp_path), "render", "mcp")
    assert len(lines) == 1, lines
    assert (
        "okta-mcp cannot start: set OKTA_ORG, OKTA_MCP_CLIENT_ID, OKTA_MCP_KEY_ID, OKTA_MCP_PRIVATE_KEY_FILE"
        in lines[0]
    )
    assert not (tmp_path / ".lab").exists()


def test_mcp_is_not_a_default_stack(tmp_path: Path) -> None:
    cfg = LabConfig.from_env(project(tmp_path) / ".env")
    assert "mcp" not in cfg.core.stack_list


def test_scopes_are_normalised(tmp_path: Path, key_file: Path) -> None:
    root = configured(tmp_path, key_file, OKTA_MCP_SCOPES="okta.users.read,okta.groups.read okta.users.read")
    assert LabConfig.from_env(root / ".env").mcp.scopes == "okta.users.read okta.groups.read"


def test_init_generates_the_gateway_token_and_add_missing_adds_it(tmp_path: Path) -> None:
    lab_cli(tmp_path, "init")
    token = LabConfig.from_env(tmp_path / ".env").mcp.gateway_token
    assert len(token) == 40 and token.isalnum()
    env = tmp_path / ".env"
    env.write_text(
        "".join(line + "\n" for line in env.read_text().splitlines() if not line.startswith("MCP_GATEWAY_TOKEN="))
    )
    assert "MCP_GATEWAY_TOKEN" in lab_cli(tmp_path, "init", "--add-missing").stdout
    assert len(LabConfig.from_env(env).mcp.gateway_token) == 40


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_each_client_gets_the_url_and_the_bearer_header_in_its_format(client: str) -> None:
    doc = json.loads(client_config(client, URL, TOKEN).text)
    server = (doc.get("mcpServers") or doc["servers"])["okta-lab"]
    flat = json.dumps(server)
    assert URL in flat and f"Bearer {TOKEN}" in flat
    expected = {"claude": "command", "vscode": "type", "gemini": "httpUrl", "cursor": "url"}[client]
    assert expected in server
    if client == "vscode":
        assert server["type"] == "http"


def test_config_prints_one_client_or_all(tmp_path: Path, key_file: Path) -> None:
    root = configured(tmp_path, key_file, MCP_PORT="42080")
    token = LabConfig.from_env(root / ".env").mcp.gateway_token
    one = json.loads(lab_cli(root, "mcp", "config", "--client", "vscode").stdout)
    assert one["servers"]["okta-lab"] == {
        "type": "http", "url": "http://127.0.0.1:42080/mcp", "headers": {"Authorization": f"Bearer {token}"}
    }  # fmt: skip
    every = lab_cli(root, "mcp", "config").stdout
    assert all(f"# {name}: " in every for name in CLIENTS)


def test_config_with_an_unknown_client_is_one_line(tmp_path: Path) -> None:
    lines = errors_of(project(tmp_path), "mcp", "config", "--client", "chatgpt")
    assert lines == ["error: --client 'chatgpt' is not known — use one of claude, vscode, gemini, cursor"]


def test_call_with_a_bad_arg_is_one_line(tmp_path: Path) -> None:
    lines = errors_of(project(tmp_path), "mcp", "call", "list_users", "--arg", "limit")
    assert len(lines) == 1 and "--arg limit is not KEY=VALUE" in lines[0]


def test_args_parse_json_values_and_keep_strings() -> None:
    assert parse_args(["limit=20", "fetch_all=true", "q=luke", 'search=status eq "ACTIVE"']) == {
        "limit": 20, "fetch_all": True, "q": "luke", "search": 'status eq "ACTIVE"'
    }  # fmt: skip
    with pytest.raises(ValueError):
        parse_args(["=x"])


def test_tools_against_no_gateway_is_one_line(tmp_path: Path, key_file: Path) -> None:
    from tests.conftest import free_port

    root = configured(tmp_path, key_file, MCP_PORT=str(free_port()))
    proc = lab_cli(root, "mcp", "tools", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "cannot talk MCP to" in proc.stderr, proc.stderr


def test_rendered_service_mounts_the_key_read_only_and_binds_lab_bind(tmp_path: Path, key_file: Path) -> None:
    root = configured(tmp_path, key_file, OKTA_MCP_EXTRA_HOSTS="fakeorg.test:host-gateway")
    lab_cli(root, "render", "mcp")
    service = yaml.safe_load((root / ".lab" / "compose.yml").read_text())["services"]["okta-mcp"]
    assert f"{key_file}:/run/secrets/okta-mcp-key:ro" in service["volumes"]
    assert service["ports"] == [f"127.0.0.1:{LabConfig.from_env(root / '.env').mcp.port}:8000"]
    assert service["build"]["args"]["BASE_IMAGE"] == "debian:trixie-slim"
    assert service["extra_hosts"] == ["fakeorg.test:host-gateway"]
    assert "BEGIN" not in json.dumps(service["environment"])  # the key never goes into the environment file
    build = root / ".lab" / "build" / "okta-mcp"
    assert (build / "requirements.lock").exists() and (build / "package-lock.json").exists()


def test_dependencies_are_pinned() -> None:
    home = RESOURCES / "compose" / "okta-mcp"
    lock = (home / "requirements.lock").read_text()
    assert "okta-mcp-server==1.1.7" in lock and "keyrings-alt==" in lock
    pinned = [line for line in lock.splitlines() if "==" in line and not line.startswith("#")]
    assert all(line.split("==")[1].split()[0] for line in pinned)
    assert lock.count("--hash=sha256:") == len(pinned)
    package = json.loads((home / "package.json").read_text())
    assert package["dependencies"] == {"supergateway": "4.0.0"}
    npm_lock = json.loads((home / "package-lock.json").read_text())
    assert npm_lock["packages"]["node_modules/supergateway"]["version"] == "4.0.0"


def test_base_image_refuses_an_unknown_suite(tmp_path: Path) -> None:
    lines = errors_of(tmp_path, "base-image", "--suite", "sid")
    assert lines == ["error: --suite 'sid' is not supported — use bookworm or trixie"]
