"""Where the files a service generates on first start live (the SCIM token and certificate).

A Docker lab keeps them under the local `data/`; `lab up --host` under `data/` of the lab's folder
on the remote host; a native host (`lab host up`) in the service's own state folder there
(`host_data` in its component.yaml). `lab creds` reads them wherever the lab runs: over SSH, with
`sudo -n` when the SSH user is not root, when that is not this machine.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.catalog import Catalog
from lab.context import LabContext
from lab.errors import Problem, TargetError
from lab.host.inventory import SshTarget
from lab.state import LabState

MISSING = "(not generated yet: start the service)"
_ABSENT = 3  # exit status of the remote read when the file does not exist


@dataclass
class DataFiles:
    """Reads `data/<service>/<name>` files of one lab, locally or over SSH (one session per host)."""

    data_dir: Path
    remote: tuple[SshTarget, str] | None = None  # a remote Docker host and the lab's folder there
    native: dict[str, tuple[SshTarget, str]] = field(default_factory=dict)  # service -> host, folder
    known_hosts: Path | None = None  # needed when `remote` or `native` is set
    _clients: dict[SshTarget, Any] = field(default_factory=dict, repr=False)

    def read(self, rel: str) -> str | None:
        """The file's text (stripped), or None when it does not exist (yet)."""
        located = self._locate(rel)
        if located is None:
            try:
                return (self.data_dir / rel).read_text().strip()
            except OSError:
                return None
        out = self._remote(*located, "cat")
        return None if out is None else out.strip()

    def mode(self, rel: str) -> int | None:
        """The file's permission bits, or None when it does not exist (yet)."""
        located = self._locate(rel)
        if located is None:
            try:
                return (self.data_dir / rel).stat().st_mode & 0o7777
            except OSError:
                return None
        out = self._remote(*located, "stat -c %a")
        return None if out is None else int(out.strip(), 8)

    def where(self, rel: str) -> str:
        """Where the file is, for people: a local path, or `host:path`."""
        located = self._locate(rel)
        if located is None:
            return str(self.data_dir / rel)
        target, path = located
        return f"{target.name}:{path}"

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _locate(self, rel: str) -> tuple[SshTarget, str] | None:
        if self.remote is not None:
            target, directory = self.remote
            return target, f"{directory}/data/{rel}"
        service, _, name = rel.partition("/")
        if service in self.native:
            target, folder = self.native[service]
            return target, f"{folder.rstrip('/')}/{name}"
        return None

    def _remote(self, target: SshTarget, path: str, command: str) -> str | None:
        """`command PATH` on the host (stdout), None when PATH does not exist; other failures raise."""
        from lab.host.ssh import run

        sudo = "" if target.user == "root" else "sudo -n "
        quoted = shlex.quote(path)
        script = shlex.quote(f"test -e {quoted} || exit {_ABSENT}; {command} {quoted}")
        rc, out, err = run(self._client(target), f"{sudo}sh -c {script}", timeout=30)
        if rc == _ABSENT:
            return None
        if rc != 0:
            raise TargetError(
                Problem(
                    f"cannot read {path} on {target.label}: {err.strip() or f'exit {rc}'}",
                    "give the inventory's SSH user root or passwordless sudo on that host",
                )
            )
        return out

    def _client(self, target: SshTarget) -> Any:
        client = self._clients.get(target)
        if client is None:
            from lab.host.ssh import connect

            assert self.known_hosts is not None, "DataFiles over SSH need the lab's known_hosts"
            client = self._clients[target] = connect(target, self.known_hosts)
        return client


def data_files(ctx: LabContext, state: LabState | None, catalog: Catalog) -> DataFiles:
    """The lab's data files: remote Docker host when `lab up --host` started it, native hosts for
    services `lab host up` placed (and that no local Docker lab runs), the local `data/` otherwise.
    SSH sessions open on first use; `close()` ends them (or use `lab_data_files`)."""
    files = DataFiles(ctx.data_dir, known_hosts=ctx.known_hosts)
    if state is not None and state.remote:
        files.remote = (SshTarget(**state.remote["target"]), str(state.remote["dir"]))
    else:
        local = set(state.services) if state else set()
        for service, target in _native_targets(ctx).items():
            comp = next((c for c in catalog if c.service == service), None)
            if comp is not None and comp.host_data and service not in local:
                files.native[service] = (target, comp.host_data)
    return files


@contextlib.contextmanager
def lab_data_files(ctx: LabContext, state: LabState | None, catalog: Catalog) -> Iterator[DataFiles]:
    """`data_files`, closing its SSH sessions at the end of the block."""
    files = data_files(ctx, state, catalog)
    try:
        yield files
    finally:
        files.close()


def _native_targets(ctx: LabContext) -> dict[str, SshTarget]:
    path = ctx.lab_dir / "host" / "targets.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {name: SshTarget(**t) for name, t in data.get("services", {}).items()}
