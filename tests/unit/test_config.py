"""Config validation: every bad input gives one clear line per problem, exit 2, nothing written."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values

from lab import RESOURCES
from lab.config import LabConfig
from lab.envfile import GENERATED, render_env, secret_lengths
from tests.conftest import lab_cli

ERRORS = Path(__file__).parent.parent / "config" / "errors"
CASES = sorted(p.stem for p in ERRORS.glob("*.env"))


def write_env(root: Path, overrides: dict[str, str]) -> Path:
    text = render_env((RESOURCES / ".env.example").read_text(), overrides)
    path = root / ".env"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", CASES)
def test_bad_config_is_reported_clearly(tmp_path: Path, case: str) -> None:
    overrides = {k: v or "" for k, v in dotenv_values(ERRORS / f"{case}.env").items()}
    write_env(tmp_path, overrides)
    proc = lab_cli(tmp_path, "render", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for expected in (ERRORS / f"{case}.txt").read_text().strip().splitlines():
        assert expected in proc.stderr, f"{expected!r} not in:\n{proc.stderr}"
    assert all(line.startswith("error: ") for line in proc.stderr.strip().splitlines())
    assert not (tmp_path / ".lab").exists(), "nothing may be rendered from a bad config"


def test_missing_env_says_to_run_init(tmp_path: Path) -> None:
    proc = lab_cli(tmp_path, "config", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / '.env'} does not exist — run `lab init` to create it"


def test_unreadable_env_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()  # root reads any file, so make it unreadable as a file instead
    proc = lab_cli(tmp_path, "config", check=False)
    assert proc.returncode == 2
    assert "cannot be read" in proc.stderr or "not readable" in proc.stderr


def test_env_that_is_not_text_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LDAP_DOMAIN=\xff\xfe\x00garbage\n")
    proc = lab_cli(tmp_path, "config", check=False)
    assert proc.returncode == 2
    assert "cannot be read" in proc.stderr


def test_unknown_component_is_named(tmp_path: Path) -> None:
    write_env(tmp_path, {})
    proc = lab_cli(tmp_path, "render", "nope", check=False)
    assert proc.returncode == 2
    assert "error: unknown stack or service 'nope' — choose from stacks" in proc.stderr
    assert not (tmp_path / ".lab").exists()


def test_two_services_on_one_host_port(tmp_path: Path) -> None:
    write_env(tmp_path, {"LDAP_PORT": "4444", "LDAPS_PORT": "4444"})
    proc = lab_cli(tmp_path, "render", "openldap", check=False)
    assert proc.returncode == 2
    assert "both use host port 4444/tcp" in proc.stderr
    assert not (tmp_path / ".lab").exists()


def test_init_writes_0600_with_distinct_generated_secrets(tmp_path: Path) -> None:
    lab_cli(tmp_path, "init")
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    values = dotenv_values(env)
    secrets = {
        k: values[k] for k in secret_lengths() if (RESOURCES / ".env.example").read_text().count(f"{k}={GENERATED}")
    }
    assert secrets, "the example must mark secrets <generated>"
    assert all(v and v != GENERATED and len(v) >= 12 for v in secrets.values())
    assert len(set(secrets.values())) == len(secrets), "every secret is generated separately"
    LabConfig.from_env(env)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    lab_cli(tmp_path, "init")
    before = (tmp_path / ".env").read_text()
    proc = lab_cli(tmp_path, "init", check=False)
    assert proc.returncode == 2
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert (tmp_path / ".env").read_text() == before
    lab_cli(tmp_path, "init", "--force")
    assert (tmp_path / ".env").read_text() != before


def test_an_older_env_gets_only_its_missing_secrets(tmp_path: Path) -> None:
    """A .env from before a stack existed: one line names the key and the fix; --add-missing adds
    just the missing generated secrets, keeps every other byte, and a second run changes nothing."""
    lab_cli(tmp_path, "init")
    env = tmp_path / ".env"
    old = "".join(line for line in env.read_text().splitlines(keepends=True) if not line.startswith("RADIUS_SECRET="))
    env.write_text(old)
    proc = lab_cli(tmp_path, "config", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: RADIUS_SECRET is missing — run `lab init --add-missing` to generate it (keeps every other value)"
    ]
    proc = lab_cli(tmp_path, "init", "--add-missing")
    assert "RADIUS_SECRET" in proc.stdout and "RADIUS_TOTP_KEY" not in proc.stdout
    text = env.read_text()
    assert text.startswith(old) and oct(env.stat().st_mode & 0o777) == "0o600"
    added = [line for line in text[len(old):].splitlines() if line.startswith("RADIUS_SECRET=")]
    assert len(added) == 1 and len(added[0].split("=", 1)[1]) >= 12
    lab_cli(tmp_path, "config")
    again = lab_cli(tmp_path, "init", "--add-missing")
    assert "nothing changed" in again.stdout and env.read_text() == text
    assert added[0].split("=", 1)[1] not in again.stdout + proc.stdout  # names only, never values


def test_add_missing_creates_a_missing_env_and_refuses_force(tmp_path: Path) -> None:
    lab_cli(tmp_path, "init", "--add-missing")
    assert (tmp_path / ".env").is_file()
    proc = lab_cli(tmp_path, "init", "--add-missing", "--force", check=False)
    assert proc.returncode == 2 and "--add-missing" in proc.stderr


def test_config_redacts_secrets_and_derives_base_dn(tmp_path: Path) -> None:
    env = write_env(tmp_path, {"LDAP_DOMAIN": "acme.example"})
    proc = lab_cli(tmp_path, "config")
    cfg = LabConfig.from_env(env)
    assert "LDAP_BASE_DN=dc=acme,dc=example" in proc.stdout
    for value in cfg.secrets().values():
        if value:
            assert value not in proc.stdout
    assert "LDAP_ADMIN_PASSWORD=********" in proc.stdout


def test_every_config_key_is_documented_in_the_example() -> None:
    from lab.config import SECTION_TYPES

    example = (RESOURCES / ".env.example").read_text()
    documented = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")}
    keys = {key for section in SECTION_TYPES.values() for key in section.env_keys()}
    assert keys - documented == set(), "undocumented keys"
    assert documented - keys == set(), "documented keys nothing reads"
