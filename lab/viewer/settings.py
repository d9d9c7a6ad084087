"""The viewer's settings outside a full lab: `.env` values overridden by the environment.

Inside the `viewer` container (or a systemd unit) only the `VIEWER_*` keys exist, so the viewer
validates its own section instead of the whole `LabConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from lab.config import _problems, read_env_file
from lab.errors import ConfigError
from lab.settings.viewer import ViewerSettings


def load_settings(env_file: Path | None = Path(".env"), environ: Mapping[str, str] | None = None) -> ViewerSettings:
    """Validate the viewer section from `env_file` (if it exists) and the process environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    if env_file is not None and env_file.exists():
        values.update(read_env_file(env_file))
    keys = ViewerSettings.env_keys()
    values.update({k: v for k, v in environ.items() if k in keys})
    data = {k: v for k, v in values.items() if k in keys}
    try:
        return ViewerSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(*_problems(ViewerSettings, data, exc)) from None
