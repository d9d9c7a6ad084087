"""Application settings are rendered once, for both targets: the env file compose reads
(`env_file:`) is the file the role copies (`EnvironmentFile=`), so the service sees the same
keys and values on Docker and on a native host; only where things are (paths, listen address)
is the target's own."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.errors import RenderError
from lab.filters import env_line
from lab.render import render_lab
from tests.render.test_golden import case_config

#: service -> (role, the unit template, the settings file under .lab/, keys whose value is placement)
APPS = {
    "viewer": (
        "viewer",
        "okta-lab-viewer.service.j2",
        "viewer/env/viewer.env",
        {"VIEWER_RECORDINGS_DIR", "VIEWER_SEARCH_DB"},
    ),
    "scim": (
        "scim",
        "okta-lab-scim.service.j2",
        "scim/env/scim.env",
        {"SCIM_DB_HOST", "SCIM_DB_PORT", "SCIM_DATA_DIR", "SCIM_LISTEN", "SCIM_LISTEN_PORT", "SCIM_OPERATIONS_FILE"},
    ),
    "dbgate": ("dbgate", "okta-lab-dbgate.service.j2", "dbgate/env/dbgate.env", {"SERVER_lab", "PORT_lab"}),
}
#: keys only the native unit sets (Docker images have them built in)
NATIVE_ONLY = {"viewer": {"LAB_VIEWER_ASSETS"}, "dbgate": {"HOME", "PORT", "NODE_ENV"}}
#: .env keys of a component that are placement, not application settings
NOT_SETTINGS = {
    "viewer": {"VIEWER_PORT", "VIEWER_RECORDINGS_DIR", "VIEWER_SEARCH_DB"},
    "scim": {"SCIM_PORT", "SCIM_APP", "SCIM_OPERATIONS_FILE"},
    "dbgate": {
        "DBGATE_PORT",
        "DBGATE_LOGIN",
        "DBGATE_PASSWORD",
        "MARIADB_DATABASE",
        "MARIADB_USER",
        "MARIADB_PASSWORD",
    },
}
#: .env key -> the name the service reads it under, where they differ
READ_AS = {
    "dbgate": {
        "DBGATE_LOGIN": "LOGIN",
        "DBGATE_PASSWORD": "PASSWORD",
        "MARIADB_DATABASE": "DATABASE_lab",
        "MARIADB_USER": "USER_lab",
        "MARIADB_PASSWORD": "PASSWORD_lab",
    }
}
TRICKY = 'pa ss#w$rd-{x}-"quoted"-0123456789'


def parse_environment_file(text: str) -> dict[str, str]:
    """systemd's EnvironmentFile= reading of what `env_line` writes: plain or single-quoted."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        key, _, value = line.partition("=")
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            value = value[1:-1]
        out[key.strip()] = value
    return out


def role_vars(role: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ansible_managed": "managed",
        "lab_render_dir": "/lab/.lab",
        "playbook_dir": "/pb",
        "role_path": "/roles/r",
    }
    for name in ("defaults", "vars"):
        data.update(yaml.safe_load((RESOURCES / "roles" / role / name / "main.yml").read_text()) or {})
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for _ in range(3):  # role variables refer to each other
        data = {k: env.from_string(v).render(**data) if isinstance(v, str) else v for k, v in data.items()}
    return data


def native_env(service: str, lab_dir: Path) -> dict[str, str]:
    role, unit, rel, _ = APPS[service]
    values = role_vars(role)
    text = (RESOURCES / "roles" / role / "templates" / unit).read_text()
    rendered = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(**values)
    env = parse_environment_file((lab_dir / rel).read_text())  # what the role copies
    for line in rendered.splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value
    return env


def docker_env(lab_dir: Path, config: LabConfig, service: str) -> dict[str, str]:
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip("docker compose (v2) is not installed")
    out = subprocess.run(
        ["docker", "compose", "-p", "envtest", "-f", str(lab_dir / "compose.yml"), "config", "--format", "json"],
        capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin", **config.env_values()},
    ).stdout  # fmt: skip
    environment = json.loads(out)["services"][service]["environment"]
    # `config` prints a compose file: a literal `$` comes out escaped as `$$`
    return {k: "" if v is None else str(v).replace("$$", "$") for k, v in environment.items()}


def render(tmp_path: Path, **over: str) -> tuple[LabConfig, Path]:
    config = case_config(RESOURCES / "tests" / "render" / "cases" / "default")
    if over:
        config = LabConfig.from_mapping({**config.env_values(), **over})
    comps = [c for c in load_catalog().select(["ldap", "jdbc", "viewer"]) if not c.artifact]
    render_lab(config, comps, tmp_path / ".lab")
    return config, tmp_path / ".lab"


@pytest.mark.parametrize("service", sorted(APPS))
@pytest.mark.parametrize("tricky", [False, True], ids=["default", "tricky-password"])
def test_docker_and_native_hosts_get_the_same_settings(tmp_path: Path, service: str, tricky: bool) -> None:
    over = {"VIEWER_ADMIN_PASSWORD": TRICKY, "MARIADB_PASSWORD": TRICKY, "DBGATE_PASSWORD": TRICKY} if tricky else {}
    config, lab_dir = render(tmp_path, **over)
    docker, native = docker_env(lab_dir, config, service), native_env(service, lab_dir)
    placement = APPS[service][3]
    assert set(docker) == set(native) - NATIVE_ONLY.get(service, set())
    differ = {k: (docker[k], native[k]) for k in docker if k not in placement and docker[k] != native[k]}
    assert not differ
    if tricky:
        password = {"viewer": "VIEWER_ADMIN_PASSWORD", "scim": "MARIADB_PASSWORD", "dbgate": "PASSWORD"}[service]
        assert docker[password] == native[password] == TRICKY


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_setting_reaches_both_targets(tmp_path: Path, service: str) -> None:
    """Every .env key of the component (but placement) is in the one settings file."""
    _, lab_dir = render(tmp_path)
    comp = next(c for c in load_catalog() if c.service == service)
    settings = parse_environment_file((lab_dir / APPS[service][2]).read_text())
    # only with the PAM API, Roles Anywhere, an extra CA or a sync source folder configured
    conditional = {
        k
        for k in comp.config_keys
        if "_PAM_" in k or "_ROLES_ANYWHERE_" in k or k.startswith("VIEWER_SYNC_") or k == "VIEWER_S3_CA_BUNDLE"
    }
    missing = set(comp.config_keys) - NOT_SETTINGS.get(service, set()) - conditional - set(settings)
    assert not missing
    renamed = {key: name for key, name in READ_AS.get(service, {}).items() if name not in settings}
    assert not renamed


def test_the_settings_file_is_private(tmp_path: Path) -> None:
    _, lab_dir = render(tmp_path)
    assert (lab_dir / "viewer" / "env" / "viewer.env").stat().st_mode & 0o777 == 0o600


def test_roles_keep_no_hand_written_copy_of_the_settings() -> None:
    assert not sorted((RESOURCES / "roles").glob("*/templates/*.env.j2"))


@pytest.mark.parametrize(
    ("value", "line"),
    [("abc", "K=abc"), ("", "K="), ("a b#c$d", "K='a b#c$d'"), (True, "K=true"), (300, "K=300")],
)
def test_env_lines(value: object, line: str) -> None:
    assert env_line("K", value) == line


@pytest.mark.parametrize("value", ["it's", "back\\slash", "two\nlines"])
def test_values_no_env_file_carries_alike_are_refused_naming_the_key(value: str) -> None:
    with pytest.raises(RenderError) as exc:
        env_line("VIEWER_ADMIN_PASSWORD", value)
    assert "VIEWER_ADMIN_PASSWORD" in str(exc.value.problems[0].what)
