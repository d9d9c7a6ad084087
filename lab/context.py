"""Where a lab lives on disk, and how commands run: passed to every API call (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.runner import Runner


@dataclass
class LabContext:
    """A project directory: `.env`, `.lab/` (rendered), `data/` (state), `packages/` (vendor files)."""

    root: Path = field(default_factory=Path.cwd)
    env_file: Path | None = None
    dry_run: bool = False
    runner: Runner = field(default_factory=Runner)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        if self.env_file is None:
            self.env_file = self.root / ".env"
        self.runner.dry_run = self.dry_run

    @property
    def env_path(self) -> Path:
        assert self.env_file is not None
        return self.env_file

    @property
    def lab_dir(self) -> Path:
        return self.root / ".lab"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def packages_dir(self) -> Path:
        return self.root / "packages"

    @property
    def state_file(self) -> Path:
        return self.lab_dir / "lab.json"

    @property
    def known_hosts(self) -> Path:
        """The SSH host keys this lab pinned (trust on first use), for every connection it makes."""
        return self.lab_dir / "host" / "known_hosts"
