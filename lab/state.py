"""`.lab/lab.json`: what `lab up` did — resolved config without secrets, services, images, target."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab.context import LabContext


@dataclass
class LabState:
    target: str = "docker"
    project: str = "oktalab"
    services: list[str] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    config: dict[str, str] = field(default_factory=dict)  # secrets redacted
    compose: str = ""
    host: str = ""
    remote: dict[str, Any] = field(default_factory=dict)  # `lab up --host`: {"target": ..., "dir": ...}
    updated: float = 0.0

    @classmethod
    def load(cls, ctx: LabContext) -> LabState | None:
        try:
            data = json.loads(ctx.state_file.read_text())
        except (OSError, ValueError):
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, ctx: LabContext) -> None:
        self.updated = time.time()
        ctx.lab_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        tmp = ctx.state_file.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(ctx.state_file)

    def env_is_newer(self, ctx: LabContext) -> bool:
        """True when `.env` changed after the lab was last brought up."""
        path: Path = ctx.env_path
        return path.exists() and path.stat().st_mtime > self.updated
