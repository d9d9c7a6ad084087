"""The viewer's compose fragment: secrets only in the private settings file, loopback ports, the
recordings mount."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.catalog import load_catalog
from lab.config import LabConfig
from lab.envfile import write_env
from lab.render import render_lab


def render(tmp_path: Path, **env: str) -> dict:  # type: ignore[type-arg]
    write_env(tmp_path / ".env", force=True, overrides={"LAB_STACKS": "viewer", **env})
    cfg = LabConfig.from_env(tmp_path / ".env")
    result = render_lab(cfg, load_catalog().select(["viewer"]), tmp_path / ".lab")
    return yaml.safe_load(result.compose_file.read_text())["services"]["viewer"]  # type: ignore[no-any-return]


def test_secrets_stay_in_the_settings_file_and_port_is_loopback(tmp_path: Path) -> None:
    svc = render(tmp_path, VIEWER_PORT="3999")
    cfg = LabConfig.from_env(tmp_path / ".env")
    assert svc["env_file"] == ["viewer/env/viewer.env"]
    assert svc["environment"] == {
        "VIEWER_RECORDINGS_DIR": "/data/recordings",
        "VIEWER_SEARCH_DB": "/data/search/search.sqlite3",
    }
    text = (tmp_path / ".lab" / "compose.yml").read_text()
    assert cfg.viewer.admin_password not in text and cfg.viewer.session_secret not in text
    settings = tmp_path / ".lab" / "viewer" / "env" / "viewer.env"
    assert f"VIEWER_ADMIN_PASSWORD={cfg.viewer.admin_password}\n" in settings.read_text()
    assert settings.stat().st_mode & 0o777 == 0o600
    assert svc["ports"] == ["127.0.0.1:3999:3000"]
    assert "/usr/local/bin/lab-healthcheck" in svc["healthcheck"]["test"]


def test_recordings_and_search_index_folders_are_mounted(tmp_path: Path) -> None:
    assert render(tmp_path)["volumes"] == ["../data/recordings:/data/recordings", "../data/viewer:/data/search"]
    svc = render(tmp_path, VIEWER_RECORDINGS_DIR="/srv/rec", VIEWER_SEARCH_DB="/srv/idx/fts.db")
    assert svc["volumes"] == ["/srv/rec:/data/recordings", "/srv/idx:/data/search"]
    assert svc["environment"]["VIEWER_SEARCH_DB"] == "/data/search/fts.db"


def test_image_builds_from_the_base_image(tmp_path: Path) -> None:
    svc = render(tmp_path, LAB_BASE_IMAGE="debian:bookworm-slim")
    assert svc["build"]["args"]["BASE_IMAGE"] == "debian:bookworm-slim"
    dockerfile = (tmp_path / ".lab" / "build" / "viewer" / "Dockerfile").read_text()
    assert dockerfile.count("FROM ${BASE_IMAGE}") == 2  # the npm stage and the final image
    assert "setpriv --reuid viewer" in (tmp_path / ".lab" / "build" / "viewer" / "entrypoint.sh").read_text()
