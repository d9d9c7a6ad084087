"""Where the files a service generates on first start live (the SCIM token and certificate).

The target of the lab reads them (`Target.read_file`): the local `data/` for a Docker lab here,
`data/` of the lab's folder on the remote host for `lab up --host`, the service's own state folder
(`host_data` in its component.yaml) on a native host, over SSH (`sudo -n` when the SSH user is not
root). `lab creds` and the demo card read them through `DataFiles`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lab.catalog import Catalog
from lab.config import LabConfig
from lab.context import LabContext
from lab.state import LabState
from lab.targets.base import Target

MISSING = "(not generated yet: start the service)"


@dataclass(frozen=True)
class Place:
    """Where a lab's services run, as the demo card needs it."""

    kind: str = "docker"  # docker | host
    #: service -> (inventory name, address, SSH user, SSH port)
    hosts: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)

    def address(self, service: str, config: LabConfig) -> str:
        """The address for the service's URLs (IPv6 in brackets)."""
        if self.kind == "host" and service in self.hosts and config.core.publishes_everywhere:
            addr = self.hosts[service][1]
            return f"[{addr}]" if ":" in addr else addr
        return config.core.url_host

    def host_name(self, service: str) -> str:
        return self.hosts[service][0] if service in self.hosts else service

    def ssh_to(self, service: str) -> str:
        """`[-p PORT] user@address` of the service's host, for the tunnel commands on the card."""
        if service not in self.hosts:
            return service
        _, address, user, port = self.hosts[service]
        return (f"-p {port} " if port != 22 else "") + f"{user}@{address}"


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

    def place(self) -> Place:
        """Docker (here or remote), or the native hosts and which runs each service."""
        services = getattr(self.target, "services", None)  # HostTarget: service -> SshTarget
        if self.target is None or not isinstance(services, dict):
            return Place()
        return Place("host", {s: (t.name, t.address, t.user, t.port) for s, t in services.items()})

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
