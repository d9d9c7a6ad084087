"""The `viewer` config section: defaults, validation, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.settings.viewer import ViewerSettings
from lab.viewer.settings import load_settings

BASE = {"VIEWER_ADMIN_PASSWORD": "p" * 16, "VIEWER_SESSION_SECRET": "s" * 48}


def test_defaults() -> None:
    s = ViewerSettings.model_validate(BASE)
    assert (s.port, s.auth, s.storage, s.recordings_dir) == (
        3000,
        "local",
        "local",
        "data/recordings",
    )
    assert s.presign_seconds == 300 and not s.secure_cookies


def test_secrets_are_marked_and_optional_ones_not_generated() -> None:
    keys = ViewerSettings.secret_keys()
    assert {"VIEWER_ADMIN_PASSWORD", "VIEWER_SESSION_SECRET", "VIEWER_S3_SECRET_ACCESS_KEY",
            "VIEWER_OIDC_CLIENT_SECRET"} <= set(keys)  # fmt: skip
    extra = ViewerSettings.model_fields["oidc_client_secret"].json_schema_extra
    assert isinstance(extra, dict) and extra["generate"] is False


def problems(values: dict[str, str], tmp_path: Path) -> str:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    with pytest.raises(ConfigError) as err:
        load_settings(env, environ={})
    return str(err.value)


def test_oidc_needs_issuer_client_and_base_url(tmp_path: Path) -> None:
    text = problems({**BASE, "VIEWER_AUTH": "oidc"}, tmp_path)
    assert "VIEWER_OIDC_ISSUER" in text and "VIEWER_BASE_URL" in text


def test_s3_needs_bucket(tmp_path: Path) -> None:
    assert "VIEWER_S3_BUCKET" in problems({**BASE, "VIEWER_STORAGE": "s3"}, tmp_path)


def test_s3_keys_go_together(tmp_path: Path) -> None:
    assert "go together" in problems({**BASE, "VIEWER_S3_ACCESS_KEY_ID": "AKIA"}, tmp_path)


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = problems({**BASE, "VIEWER_AUTH": "ldap", "VIEWER_S3_PREFIX": "../x", "VIEWER_PORT": "0"}, tmp_path)
    assert "VIEWER_AUTH" in text and "VIEWER_S3_PREFIX" in text and "VIEWER_PORT" in text


def test_short_session_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = problems({**BASE, "VIEWER_SESSION_SECRET": "tooshort"}, tmp_path)
    assert "VIEWER_SESSION_SECRET" in text and "tooshort" not in text


def test_environment_overrides_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in BASE.items()) + "VIEWER_PORT=3001\n")
    assert load_settings(env, environ={"VIEWER_PORT": "3002"}).port == 3002
    assert load_settings(tmp_path / "absent", environ={**BASE}).port == 3000


def test_trusted_proxies_are_addresses_or_networks(tmp_path: Path) -> None:
    s = ViewerSettings.model_validate({**BASE, "VIEWER_TRUSTED_PROXIES": " 127.0.0.1, 172.16.0.0/12 ,::1"})
    assert s.trusted_proxies == "127.0.0.1, 172.16.0.0/12, ::1" and len(s.proxy_networks) == 3
    text = problems({**BASE, "VIEWER_TRUSTED_PROXIES": "127.0.0.1, proxy.local"}, tmp_path)
    assert "VIEWER_TRUSTED_PROXIES" in text and "'proxy.local', not an IP address or network" in text
