"""`lab viewer sync`: convert OPA `.asa` recordings with `sft` and upload them to storage.

SSH recordings become asciicast (`sft session-logs export --format asciinema --output F.cast`),
RDP ones a directory of `<stem>.asa-N.mkv` (`--format mkv --output DIR`). What storage already
holds is skipped; sources older than N days are deleted only once their conversion is stored.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import LabError, Problem
from lab.viewer.storage import Storage, StorageError

log = logging.getLogger("lab.viewer.sync")


class SyncError(LabError):
    """Sync cannot run at all (no `sft`, no source folder)."""


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncOptions:
    source: Path
    delete_after_days: int = 0  # 0: never delete sources
    settle_seconds: float = 5.0  # files modified more recently may still be written
    timeout: int = 3600
    interval: float = 10.0


def find_sft() -> str:
    sft = shutil.which("sft")
    if sft is None:
        raise SyncError(
            Problem(
                "the Okta Privileged Access client `sft` is not installed, so .asa recordings cannot be converted",
                "install the OPA client (package scaleft-client-tools) on this machine, or copy "
                "converted .cast/.mkv files into the recordings storage",
            )
        )
    return sft


class Syncer:
    """One pass (`run_once`) or a loop until `stop` is set (`watch`)."""

    def __init__(self, storage: Storage, options: SyncOptions, sft: str | None = None) -> None:
        if not options.source.is_dir():
            raise SyncError(Problem(f"source folder {options.source} does not exist", ""))
        self.storage = storage
        self.options = options
        self.sft = sft or find_sft()
        self.known: set[str] = {o.key for o in storage.list()}

    def _stored(self, src: Path) -> list[str]:
        """Keys in storage converted from `src` (`<stem>.cast` or `<stem>.asa-N.mkv`)."""
        stem = src.stem
        head = f"{stem}.asa-"
        return [k for k in self.known if k == f"{stem}.cast" or k.startswith(head)]

    def _convert(self, src: Path, out: Path) -> list[Path]:
        protocol = src.name.split("~", 1)[0].lower()
        if protocol == "ssh":
            target = out / f"{src.stem}.cast"
            cmd = [self.sft, "session-logs", "export", "--insecure", "--format", "asciinema"]
            cmd += ["--output", str(target), str(src)]
        elif protocol == "rdp":
            cmd = [self.sft, "session-logs", "export", "--insecure", "--format", "mkv"]
            cmd += ["--output", str(out), str(src)]
        else:
            raise SyncError(f"{src.name}: cannot tell SSH from RDP (name must start ssh~ or rdp~)")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.options.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise SyncError(f"{src.name}: sft timed out after {self.options.timeout}s") from None
        if proc.returncode != 0:
            raise SyncError(f"{src.name}: sft failed ({proc.returncode}): {proc.stderr[-200:]}")
        produced = sorted(p for p in out.iterdir() if p.suffix in (".cast", ".mkv"))
        if not produced:
            raise SyncError(f"{src.name}: sft produced no recording")
        return produced

    def _sources(self) -> list[Path]:
        files = [p for p in self.options.source.rglob("*.asa") if p.is_file()]
        # SSH first (cheap), newest first, as recordings are most wanted while fresh.
        return sorted(files, key=lambda p: (not p.name.startswith("ssh~"), -p.stat().st_mtime))

    def run_once(self, stop: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        now = time.time()
        for src in self._sources():
            if stop is not None and stop.is_set():
                break
            if now - src.stat().st_mtime < self.options.settle_seconds:
                continue
            if self._stored(src):
                report.skipped += 1
                continue
            with tempfile.TemporaryDirectory(prefix="lab-sync-") as tmp:
                try:
                    for produced in self._convert(src, Path(tmp)):
                        self.storage.put_file(produced.name, produced)
                        self.known.add(produced.name)
                        report.uploaded.append(produced.name)
                except (SyncError, StorageError) as exc:
                    log.warning("%s", exc)
                    report.failed.append(src.name)
        report.deleted = self._clean(now)
        return report

    def _clean(self, now: float) -> list[str]:
        days = self.options.delete_after_days
        if days <= 0:
            return []
        deleted = []
        for src in self._sources():
            old = now - src.stat().st_mtime > days * 86400
            if old and self._stored(src):
                src.unlink()
                deleted.append(src.name)
        return deleted

    def watch(self, stop: threading.Event, on_report: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Poll the source folder until `stop` is set; returns the totals."""
        total = SyncReport()
        while not stop.is_set():
            report = self.run_once(stop)
            total.uploaded += report.uploaded
            total.skipped += report.skipped
            total.failed += report.failed
            total.deleted += report.deleted
            if on_report is not None:
                on_report(report)
            stop.wait(self.options.interval)
        return total
