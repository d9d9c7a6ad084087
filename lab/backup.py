"""`lab backup` / `lab restore`: the lab's persistent state (data/) and its .env, in one archive.

Services are stopped while the archive is written or restored, so databases are consistent.
The archive holds secrets (.env): it is written with mode 0600.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import time
from pathlib import Path

from lab.context import LabContext
from lab.errors import Problem, UsageError
from lab.pipeline import current, docker_target, require_local
from lab.state import LabState


def backup(ctx: LabContext, dest: Path | None = None) -> Path:
    config, state = current(ctx)
    require_local(state, "backup")
    dest = dest or default_dest(ctx)
    target = docker_target(ctx, config)
    target.run_compose("stop", timeout=300)
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            tar.add(ctx.env_path, arcname=".env")
            if ctx.data_dir.exists():
                tar.add(ctx.data_dir, arcname="data")
    finally:
        target.run_compose("start", timeout=300)
    # back as it was before the command returns: `compose start` does not wait for health checks
    target.wait(list(state.services), config.core.health_timeout)
    return dest


def default_dest(ctx: LabContext) -> Path:
    """`backups/lab-backup-DATE.tar.gz`: a folder git ignores (its own .gitignore) and `lab destroy` keeps."""
    folder = ctx.root / "backups"
    folder.mkdir(mode=0o700, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# lab backups hold the lab's secrets (.env): never commit them\n*\n")
    return folder / f"lab-backup-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"


def restore(ctx: LabContext, archive: Path) -> None:
    """Replace data/ and .env with the archive's, then start the lab again (`lab up`)."""
    require_local(LabState.load(ctx), "restore")
    if not archive.is_file():
        raise UsageError(Problem(f"{archive} does not exist", "give the path of a `lab backup` archive"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            names = tar.getnames()
            if ".env" not in names or any(n.startswith(("/", "..")) or "/../" in n for n in names):
                raise UsageError(Problem(f"{archive} is not a lab backup", "create one with `lab backup`"))
            staging = ctx.root / ".restore"
            shutil.rmtree(staging, ignore_errors=True)
            tar.extractall(staging, filter="tar")  # keeps ownership: services run as their own users
    except (tarfile.TarError, OSError) as exc:
        raise UsageError(Problem(f"{archive} cannot be read: {exc}", "give a `lab backup` archive")) from None
    from lab.pipeline import load_config

    if (ctx.lab_dir / "compose.yml").exists():
        docker_target(ctx, load_config(ctx)).run_compose("down", "--remove-orphans", timeout=300)
    shutil.rmtree(ctx.data_dir, ignore_errors=True)
    if (staging / "data").exists():
        (staging / "data").replace(ctx.data_dir)
    (staging / ".env").replace(ctx.env_path)
    os.chmod(ctx.env_path, 0o600)
    shutil.rmtree(staging, ignore_errors=True)
