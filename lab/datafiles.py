"""Where the files a service generates on first start live (the SCIM token and certificate).

The target of the lab reads them (`Target.read_file`): the local `data/` for a Docker lab here,
`data/` of the lab's folder on the remote host for `lab up --host`, the service's own state folder
(`host_data` in its component.yaml) on a native host, over SSH (`sudo -n` when the SSH user is not
root). `lab creds` and the demo card read them through `DataFiles`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab.catalog import Catalog
from lab.context import LabContext
from lab.state import LabState
from lab.targets.base import Target

MISSING = "(not generated yet: start the service)"


@dataclass
class DataFiles:
    """Reads `<service>/<name>` files of one lab through its target (local `data/` without one)."""

    data_dir: Path
    target: Target | None = None

    def _local(self, rel: str) -> bool:
        if self.target is None:
            return True
        has_file = getattr(self.target, "has_file", None)  # native hosts: only services placed there
        return has_file is not None and not has_file(rel)

    def read(self, rel: str) -> str | None:
        """The file's text (stripped), or None when it does not exist (yet)."""
        if self._local(rel):
            try:
                return (self.data_dir / rel).read_text().strip()
            except OSError:
                return None
        assert self.target is not None
        return self.target.read_file(rel)

    def mode(self, rel: str) -> int | None:
        """The file's permission bits, or None when it does not exist (yet)."""
        if self._local(rel):
            try:
                return (self.data_dir / rel).stat().st_mode & 0o7777
            except OSError:
                return None
        assert self.target is not None
        return self.target.file_mode(rel)

    def where(self, rel: str) -> str:
        """Where the file is, for people: a local path, or `host:path`."""
        if self._local(rel):
            return str(self.data_dir / rel)
        assert self.target is not None
        return self.target.file_where(rel)

    def close(self) -> None:
        if self.target is not None:
            self.target.close()


def data_files(ctx: LabContext, state: LabState | None = None, catalog: Catalog | None = None) -> DataFiles:
    """The lab's data files, read through the target this folder's lab runs on (see
    `lab.pipeline.lab_target`). SSH sessions open on first use; `close()` ends them."""
    from lab.pipeline import lab_target

    return DataFiles(ctx.data_dir, lab_target(ctx))


@contextlib.contextmanager
def lab_data_files(
    ctx: LabContext, state: LabState | None = None, catalog: Catalog | None = None
) -> Iterator[DataFiles]:
    """`data_files`, closing its SSH sessions at the end of the block."""
    files = data_files(ctx, state, catalog)
    try:
        yield files
    finally:
        files.close()
