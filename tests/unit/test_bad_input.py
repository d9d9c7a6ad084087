"""Bad input met on the way in: one clear line naming the key and the fix, exit 2, nothing written."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab import RESOURCES
from lab.catalog import load_catalog
from lab.config import LabConfig, read_env_file
from lab.envfile import render_env
from lab.errors import ConfigError
from lab.settings.core import CoreSettings
from lab.settings.ports import busy, port_in_use, published
from tests.conftest import lab_cli


def test_init_refuses_an_unknown_key_and_suggests_the_close_one(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PROT=10389", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "error: --set LDAP_PROT is not a configuration key — did you mean LDAP_PORT?" in proc.stderr
    assert not (tmp_path / ".env").exists()


def test_init_refuses_set_without_a_value(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PORT", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "error: --set 'LDAP_PORT' has no value — write it as --set LDAP_PORT=VALUE" in proc.stderr
    assert not (tmp_path / ".env").exists()


def test_failed_init_leaves_no_env_behind_and_the_next_init_works(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "init", "--set", "LDAP_PORT=70000", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "LDAP_PORT='70000'" in proc.stderr and "from 1 to 65535" in proc.stderr
    assert not (tmp_path / ".env").exists() and not list(tmp_path.glob(".env*"))
    lab_cli(tmp_path, "init", "--set", "LDAP_PORT=10389")
    assert "LDAP_PORT=10389" in (tmp_path / ".env").read_text()


@pytest.mark.parametrize(("given", "bind", "url_host"), [
    ("::1", "::1", "[::1]"),
    ("[::1]", "::1", "[::1]"),
    ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("0:0::1", "::1", "[::1]"),
])  # fmt: skip
def test_ipv6_binds_are_accepted_bracketed_or_not(given: str, bind: str, url_host: str) -> None:
    core = CoreSettings.model_validate({"LAB_BIND": given})
    assert (core.bind, core.url_host) == (bind, url_host)


@pytest.mark.parametrize("given", ["localhost", "[127.0.0.1", "::1]", "[localhost]", "127.0.0.1:80"])
def test_bind_must_be_an_ip_literal(given: str) -> None:
    with pytest.raises(Exception, match="is not an IP address"):
        LabConfig.from_mapping({"LAB_BIND": given})


def test_a_published_database_port_is_in_the_duplicate_check(tmp_path: Path) -> None:
    write_env(tmp_path, {"MARIADB_PUBLISH": "true", "MARIADB_PORT": "42389", "LDAP_PORT": "42389"})
    proc = lab_cli(tmp_path, "render", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error: MARIADB_PORT and LDAP_PORT both use host port 42389/tcp" in proc.stderr
    assert not (tmp_path / ".lab").exists()


def test_an_unpublished_database_port_may_equal_another() -> None:
    config = LabConfig.from_mapping(example_values({"MARIADB_PORT": "42389", "LDAP_PORT": "42389"}))
    keys = {p.key for p in published(config, list(load_catalog()))}
    assert "MARIADB_PORT" not in keys and "LDAP_PORT" in keys


def test_every_published_port_is_checked_for_use(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        config = LabConfig.from_mapping(example_values({"MARIADB_PUBLISH": "true", "MARIADB_PORT": str(taken)}))
        ports = published(config, list(load_catalog()))
        problems = busy(config, ports, held=set(), services=["db", "openldap"])
    assert [p.what for p in problems] == [f"host port {taken} (MARIADB_PORT) is already in use on 127.0.0.1"]


def test_port_in_use_probes_ipv6_binds() -> None:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        s.listen()
        taken = s.getsockname()[1]
        assert port_in_use("::1", taken) and port_in_use("[::1]", taken)


def test_ipv6_binds_render_bracketed_ports() -> None:
    config = LabConfig.from_mapping(example_values({"LAB_BIND": "::1", "MARIADB_PUBLISH": "true"}))
    ports = {p.key: p.port for p in published(config, list(load_catalog()))}
    assert ports["LDAP_PORT"] == config.ldap.port and ports["MARIADB_PORT"] == config.jdbc.port


def example_values(overrides: dict[str, str]) -> dict[str, str]:
    text = render_env((RESOURCES / ".env.example").read_text(), overrides)
    return {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}


def write_env(root: Path, overrides: dict[str, str]) -> Path:
    path = root / ".env"
    path.write_text(render_env((RESOURCES / ".env.example").read_text(), overrides))
    return path


def test_an_unquoted_hash_in_a_value_is_refused_not_cut(tmp_path: Path) -> None:
    env = write_env(tmp_path, {})
    env.write_text(env.read_text() + "LDAP_DEMO_PASSWORD=Demo pass #1\n")
    proc = lab_cli(tmp_path, "config", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "error: LDAP_DEMO_PASSWORD (line" in proc.stderr and "unquoted ' #'" in proc.stderr
    assert "single quotes" in proc.stderr and "Demo pass" not in proc.stderr
    env.write_text(env.read_text().replace("LDAP_DEMO_PASSWORD=Demo pass #1", "LDAP_DEMO_PASSWORD='Demo pass #1'"))
    lab_cli(tmp_path, "config")


def test_an_env_under_a_folder_the_user_cannot_enter_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(self: Path) -> bool:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "exists", denied)
    with pytest.raises(ConfigError) as info:
        read_env_file(Path("/locked/proj/.env"))
    (problem,) = info.value.problems
    assert problem.what == "/locked/proj/.env cannot be reached: Permission denied"
    assert problem.hint == "give your user access to /locked/proj"


def _project(tmp_path: Path, *sets: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    lab_cli(tmp_path, "init", *[f"--set={s}" for s in sets])
    return tmp_path


def test_config_refuses_two_services_on_one_port_as_render_does(tmp_path: Path) -> None:
    root = _project(tmp_path, "LAB_STACKS=ldap", "LDAP_PORT=10389", "LDAPS_PORT=10389")
    for command in ("config", "render"):
        proc = lab_cli(root, command, check=False)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert "both use host port 10389/tcp" in proc.stderr, (command, proc.stderr)
    assert not (root / ".lab" / "compose.yml").exists()


@pytest.mark.parametrize(("content", "expected"), [
    ("people: [\n  {uid: a\n", "line 3, column 1 is not valid YAML"),
    ("people:\n  - {uid: luke, given_name: L, sn: S, manager: nobody}\n", "manager 'nobody' of 'luke'"),
    ("name: x\n", "is not a company file"),
])  # fmt: skip
def test_company_problems_name_lab_company_with_a_fix_in_config_and_render(
    tmp_path: Path, content: str, expected: str
) -> None:
    company = tmp_path / "company.yaml"
    company.write_text(content)
    root = _project(tmp_path / "p", "LAB_STACKS=ldap", f"LAB_COMPANY={company}")
    for command in ("config", "render"):
        proc = lab_cli(root, command, check=False)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert f"LAB_COMPANY='{company}'" in proc.stderr and expected in proc.stderr, (command, proc.stderr)
        assert "lab data generate" in proc.stderr or "—" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_missing_company_file_is_refused_by_config(tmp_path: Path) -> None:
    root = _project(tmp_path, "LAB_STACKS=ldap", "LAB_COMPANY=/nonexistent/company.yaml")
    proc = lab_cli(root, "config", check=False)
    assert proc.returncode == 2 and "no such company file" in proc.stderr, proc.stderr


def test_a_wildcard_bind_warns_once_before_anything_starts(tmp_path: Path) -> None:
    root = _project(tmp_path, "LAB_STACKS=ldap", "LAB_BIND=0.0.0.0")
    proc = lab_cli(root, "--dry-run", "up", "openldap", check=False)
    assert proc.stderr.count("publishes every lab port on all interfaces") == 1, proc.stderr
    loopback = _project(tmp_path / "lo", "LAB_STACKS=ldap")
    proc = lab_cli(loopback, "--dry-run", "up", "openldap", check=False)
    assert "all interfaces" not in proc.stderr


def test_init_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path / "missing", "init", check=False)
    assert proc.returncode == 2, proc.stderr
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
