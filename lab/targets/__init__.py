"""The targets: Docker here (`docker`), Docker on a remote host over SSH (`remote`), native hosts
(`host`). Each implements `lab.targets.base.Target`; `open_target` picks one from a state record.

Only `open_target` knows all three; it imports the remote and host modules (and so paramiko) only
for labs that run there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lab.config import LabConfig
from lab.context import LabContext
from lab.state import DockerLocal, DockerRemote, NativeHosts, TargetRecord
from lab.targets.base import Target

if TYPE_CHECKING:
    from lab.host.become import Become


def open_target(
    ctx: LabContext,
    config: LabConfig,
    record: TargetRecord,
    *,
    prefer: str | None = None,
    known_hosts: Path | None = None,
    become: Become | None = None,
) -> Target:
    """The target a state record names, ready to drive (SSH sessions open on first use).

    `prefer`: the compose variant the lab was started with; `known_hosts`: the pinned host keys
    to use (a scratch copy in a dry run, so it writes nothing under `.lab/`); `become`: the sudo
    password given now for a remote host's user (else `$LAB_BECOME_PASSWORD_FILE` or the recorded file)."""
    if isinstance(record, DockerRemote):
        from lab.targets.remote import RemoteDockerTarget

        return RemoteDockerTarget.open(
            record,
            config.core.project,
            known_hosts or ctx.known_hosts,
            config.env_values(),
            dry_run=ctx.dry_run,
            prefer=prefer,
            become=become,
        )
    if isinstance(record, NativeHosts):
        from lab.targets.host import HostTarget

        return HostTarget.from_rendered(ctx, record)
    assert isinstance(record, DockerLocal)
    from lab.targets.docker import DockerTarget

    return DockerTarget(config, ctx.lab_dir, ctx.runner, prefer=prefer)


__all__ = ["Target", "open_target"]
