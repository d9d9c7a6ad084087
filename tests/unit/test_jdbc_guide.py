"""`lab jdbc guide`: content, secrets hidden by default, formats, and the settings' bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.config import LabConfig
from lab.errors import ConfigError
from lab.jdbc.guide import HIDDEN, build_guide, read_scim_token, render_markdown, render_text
from lab.scim.operations import load_operations

SECRETS = {
    "MARIADB_PASSWORD": "db-password-0123456789",
    "MARIADB_ROOT_PASSWORD": "root-password-0123456789",
    "DBGATE_PASSWORD": "dbgate-password-0123456789",
}


def config(**extra: str) -> LabConfig:
    """A config as `lab init` writes it (every secret generated), with `extra` overrides."""
    from dotenv import dotenv_values

    from lab.envfile import example_path, render_env

    text = render_env(example_path().read_text(), {**SECRETS, **extra})
    import io

    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    values.update({**SECRETS, **extra})
    return LabConfig.from_mapping(values)


def write_scim_state(data: Path, cid: str = "my-okta-org", token: str = "feedfacecafebeef" * 2) -> None:
    (data / "okta-scim" / "conf").mkdir(parents=True)
    (data / "okta-scim" / "certs").mkdir(parents=True)
    (data / "okta-scim" / "conf" / f"config-{cid}.properties").write_text(
        f"server.port=1443\nscim.security.bearer.token={token}\n"
    )
    (data / "okta-scim" / "certs" / f"OktaOnPremScimServer-{cid}.crt").write_text("-----BEGIN CERTIFICATE-----\n")


def test_guide_lists_connection_and_all_ten_operations(tmp_path):
    text = render_text(build_guide(config(), tmp_path, load_operations()))
    for needle in ("okta-scim", "MySQL", "allowMultiQueries=true", "oktademo", "Port", "3306",
                   "CALL GET_ACTIVEUSERS()", "CALL REMOVE_ENTITLEMENT_FROM_USER(?, ?)",
                   "DELETE FROM USERENTITLEMENTS", "DATABASE_FIELD ENT_ID", "ext_MANAGERID"):  # fmt: skip
        assert needle in text, needle
    assert text.count("Execute Stored Procedure:") == 10
    assert text.count("SQL Statement:") == 10
    assert "24. DATABASE_FIELD PASSWORD_HASH" in text


def test_guide_hides_secrets_by_default(tmp_path):
    write_scim_state(tmp_path)
    text = render_text(build_guide(config(), tmp_path, load_operations()))
    assert "feedfacecafebeef" not in text and SECRETS["MARIADB_PASSWORD"] not in text
    assert HIDDEN in text


def test_guide_shows_token_and_certificate_on_request(tmp_path):
    write_scim_state(tmp_path)
    guide = build_guide(config(), tmp_path, load_operations(), show_secrets=True)
    text = render_text(guide)
    assert "Bearer " + "feedfacecafebeef" * 2 in text
    assert "OktaOnPremScimServer-my-okta-org.crt" in text
    assert SECRETS["MARIADB_PASSWORD"] in text


def test_guide_follows_the_config(tmp_path):
    cfg = config(MARIADB_DATABASE="hr_db", MARIADB_USER="okta_app", OKTA_SCIM_HOSTNAME="scim.corp")
    text = render_text(build_guide(cfg, tmp_path, load_operations()))
    assert "jdbc:mysql://db:3306/hr_db?allowMultiQueries=true" in text
    assert "okta_app" in text and "scim.corp" in text


def test_markdown_is_a_handout(tmp_path):
    md = render_markdown(build_guide(config(), tmp_path, load_operations()))
    assert md.startswith("# Okta Generic Database Connector")
    assert md.count("```sql") == 20
    assert "| 1 | DATABASE_FIELD | `USER_ID` |" in md


def test_read_scim_token_missing_or_absent(tmp_path):
    assert read_scim_token(tmp_path / "nope.properties") is None
    (tmp_path / "p.properties").write_text("server.port=1443\n")
    assert read_scim_token(tmp_path / "p.properties") is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("MARIADB_PASSWORD", "short", "MARIADB_PASSWORD"),
        ("MARIADB_DATABASE", "bad-name", "MARIADB_DATABASE"),
        ("MARIADB_DATABASE", "1db", "MARIADB_DATABASE"),
        ("MARIADB_DATABASE", "db;DROP", "MARIADB_DATABASE"),
        ("MARIADB_USER", "bad user", "MARIADB_USER"),
        ("DBGATE_LOGIN", "", "DBGATE_LOGIN"),
        ("MYSQL_CONNECTOR_VERSION", "latest", "MYSQL_CONNECTOR_VERSION"),
    ],
)
def test_bad_jdbc_settings_are_reported(key, value, message):
    with pytest.raises(ConfigError) as info:
        config(**{key: value})
    text = str(info.value)
    assert message in text
    if "PASSWORD" in key:
        assert value not in text.replace(key, "")


def test_cli_guide_runs(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lab.cli import app

    env = tmp_path / ".env"
    values = config().raw
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    result = CliRunner().invoke(app, ["-C", str(tmp_path), "jdbc", "guide", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "allowMultiQueries=true" in result.output
    assert SECRETS["MARIADB_PASSWORD"] not in result.output
