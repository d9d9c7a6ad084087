"""The glpi stack's catalog entries, compose fragments and settings files, rendered (no Docker)."""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from dotenv import dotenv_values

from lab.card import demo_card
from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import example_path, render_env
from lab.render import render_lab


def config(**extra: str) -> LabConfig:
    text = render_env(example_path().read_text(), extra)
    return LabConfig.from_mapping({k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()})


def rendered(tmp_path: Path, **extra: str):  # type: ignore[no-untyped-def]
    cfg = config(**extra)
    comps = load_catalog().select(["glpi", "db"])
    result = render_lab(cfg, comps, tmp_path)
    return cfg, result, yaml.safe_load(result.compose_file.read_text())["services"]


def test_glpi_is_the_only_needs_registry_service_of_its_stack():
    catalog = load_catalog()
    assert [c.service for c in catalog.in_stack("glpi") if c.needs_registry] == ["glpi"]
    assert catalog.get("glpi").image_key == "GLPI_IMAGE" and not catalog.get("glpi").build


def test_glpi_db_uses_the_lab_database_image(tmp_path):
    _, result, services = rendered(tmp_path)
    assert result.images["glpi-db"] == result.images["db"]
    assert services["glpi-db"]["build"]["context"] == "./build/db"
    assert services["glpi-db"]["environment"]["LAB_DB_PROFILE"] == "glpi"
    assert "ports" not in services["glpi-db"]


def test_glpi_gets_its_database_settings_and_the_lab_ca(tmp_path):
    cfg, result, services = rendered(tmp_path)
    glpi = services["glpi"]
    assert glpi["image"] == cfg.glpi.image
    assert glpi["ports"] == [f"127.0.0.1:{cfg.glpi.port}:80"]
    assert "../data/glpi:/var/glpi" in glpi["volumes"]
    env = dotenv_values(tmp_path / "glpi" / "env" / "glpi.env")
    assert {k: env[k] for k in ("GLPI_DB_HOST", "GLPI_DB_PORT", "GLPI_DB_NAME", "GLPI_DB_USER")} == {
        "GLPI_DB_HOST": "glpi-db",
        "GLPI_DB_PORT": "3306",
        "GLPI_DB_NAME": "glpi",
        "GLPI_DB_USER": "glpi",
    }
    assert env["GLPI_DB_PASSWORD"] == cfg.glpi.db_password
    assert (tmp_path / "glpi" / "env" / "glpi.env").stat().st_mode & 0o777 == 0o600


def test_mail_binds_to_lab_bind_with_its_login_rendered_once(tmp_path):
    cfg, _, services = rendered(tmp_path, LAB_BIND="192.0.2.10")
    assert services["mail"]["ports"] == [
        f"192.0.2.10:{cfg.glpi.mail_ui_port}:1080",
        f"192.0.2.10:{cfg.glpi.mail_smtp_port}:1025",
    ]
    env = tmp_path / "mail" / "env" / "mail.env"
    assert dotenv_values(env) == {"MAILDEV_WEB_USER": "admin", "MAILDEV_WEB_PASS": cfg.glpi.mail_ui_password}
    assert env.stat().st_mode & 0o777 == 0o600


def test_card_shows_the_okta_values_and_hides_passwords():
    cfg = config(GLPI_URL="http://glpi.galaxy.test:8080")
    card = demo_card(cfg, load_catalog().select(["glpi"]), reveal=False)
    lines = {e.label: e.value for e in card}
    assert lines["SAML (phpsaml): ACS, Recipient, Destination"] == (
        "http://glpi.galaxy.test:8080/plugins/phpsaml/front/acs.php"
    )
    assert lines["SAML (phpsaml): Audience (SP entity ID)"] == "http://glpi.galaxy.test:8080"
    assert "timeout 30" in lines["Okta LDAP Interface: groups"]
    assert cfg.glpi.admin_password not in " ".join(e.value for e in card)
