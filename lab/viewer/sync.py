"""`lab viewer sync`: convert OPA `.asa` recordings with `sft` and upload them to storage.

SSH recordings become asciicast (`sft session-logs export --format asciinema --output F.cast`),
RDP ones a directory of `<stem>.asa-N.mkv` (`--format mkv --output DIR`). What storage already
holds is skipped. Optionally the original `.asa` is uploaded too (under `source_prefix/`). A
source is deleted only once storage confirmed its conversion (same size read back): right after
the upload with `delete_after_upload`, or when older than `delete_after_days`. Every
`summary_every` files a summary goes to `on_summary`. `lab/viewer/watch.py` drives `process`
from inotify events for the service (`--watch`).
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
    uploaded: list[str] = field(default_factory=list)  # storage keys written (conversions and sources)
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        self.uploaded += other.uploaded
        self.skipped += other.skipped
        self.failed += other.failed
        self.deleted += other.deleted


@dataclass(frozen=True)
class SyncOptions:
    source: Path
    delete_after_days: int = 0  # 0: never delete sources by age
    delete_after_upload: bool = False  # delete a source once its upload is confirmed
    upload_source: bool = False  # also store the original .asa
    source_prefix: str = "sources"  # where originals go in storage
    settle_seconds: float = 5.0  # files modified more recently may still be written
    timeout: int = 3600
    interval: float = 10.0  # polling: between scans; with --watch (inotify): between full rescans
    summary_every: int = 10  # a summary every N files handled (0: none)


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

    def __init__(
        self,
        storage: Storage,
        options: SyncOptions,
        sft: str | None = None,
        on_summary: Callable[[str], None] | None = None,
    ) -> None:
        if not options.source.is_dir():
            raise SyncError(Problem(f"source folder {options.source} does not exist", ""))
        self.storage = storage
        self.options = options
        self.sft = sft or find_sft()
        self.known: set[str] = {o.key for o in storage.list()}
        self.on_summary = on_summary
        self.totals = SyncReport()
        self.handled = 0  # files converted, skipped or failed since start

    def _stored(self, src: Path) -> list[str]:
        """Keys in storage converted from `src` (`<stem>.cast` or `<stem>.asa-N.mkv`)."""
        stem = src.stem
        head = f"{stem}.asa-"
        return [k for k in self.known if k == f"{stem}.cast" or k.startswith(head)]

    def stored(self, src: Path) -> bool:
        """Storage already holds a conversion of `src`."""
        return bool(self._stored(src))

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
        return sorted(files, key=lambda p: (not p.name.startswith("ssh~"), -_mtime(p, 0.0)))

    def process(self, src: Path, report: SyncReport) -> None:
        """Handle one source: skip it if stored, else convert, upload, confirm, maybe delete."""
        mine = SyncReport()
        if self._stored(src):
            mine.skipped += 1
            if self.options.delete_after_upload and self._confirmed(src):
                self._delete(src, mine)
        else:
            self._convert_and_upload(src, mine)
        report.add(mine)
        self.totals.add(mine)
        self.handled += 1
        every = self.options.summary_every
        if every and self.on_summary is not None and self.handled % every == 0:
            self.on_summary(self.summary())

    def summary(self) -> str:
        t = self.totals
        return (
            f"sync summary after {self.handled} files: {len(t.uploaded)} objects uploaded, {t.skipped} already "
            f"stored, {len(t.failed)} failed, {len(t.deleted)} sources deleted"
        )

    def _convert_and_upload(self, src: Path, report: SyncReport) -> None:
        with tempfile.TemporaryDirectory(prefix="lab-sync-") as tmp:
            try:
                stored = []
                for produced in self._convert(src, Path(tmp)):
                    self.storage.put_file(produced.name, produced)
                    if self.storage.stat(produced.name).size != produced.stat().st_size:
                        raise StorageError(f"{produced.name}: storage holds a different size than was uploaded")
                    self.known.add(produced.name)
                    stored.append(produced.name)
                if self.options.upload_source:
                    key = self._source_key(src)
                    if self.storage.put_source(key, src) != src.stat().st_size:
                        raise StorageError(f"{key}: storage holds a different size than was uploaded")
                    stored.append(key)
            except (SyncError, StorageError) as exc:
                log.warning("%s", exc)
                report.failed.append(src.name)
                return
        report.uploaded += stored
        if self.options.delete_after_upload:
            self._delete(src, report)

    def _source_key(self, src: Path) -> str:
        rel = src.relative_to(self.options.source).as_posix()
        prefix = self.options.source_prefix.strip("/")
        return f"{prefix}/{rel}" if prefix else rel

    def _confirmed(self, src: Path) -> bool:
        """Storage answers for every conversion of `src` (a fresh look, not the cached listing)."""
        keys = self._stored(src)
        try:
            return bool(keys) and all(self.storage.exists(k) for k in keys)
        except StorageError:
            return False

    def _delete(self, src: Path, report: SyncReport) -> None:
        try:
            src.unlink()
        except OSError as exc:
            log.warning("%s: cannot delete the source (%s)", src.name, exc.strerror)
            return
        report.deleted.append(src.name)

    def pending(self) -> list[Path]:
        """Sources to handle now, in order (settled files only)."""
        now = time.time()
        return [p for p in self._sources() if now - _mtime(p, now) >= self.options.settle_seconds]

    def run_once(self, stop: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        for src in self.pending():
            if stop is not None and stop.is_set():
                break
            if src.exists():
                self.process(src, report)
        cleaned = self._clean(time.time())
        report.deleted += cleaned
        self.totals.deleted += cleaned
        return report

    def _clean(self, now: float) -> list[str]:
        days = self.options.delete_after_days
        if days <= 0:
            return []
        report = SyncReport()
        for src in self._sources():
            old = now - _mtime(src, now) > days * 86400
            if old and self._confirmed(src):
                self._delete(src, report)
        return report.deleted

    def watch(self, stop: threading.Event, on_report: Callable[[SyncReport], None] | None = None) -> SyncReport:
        """Poll the source folder until `stop` is set; returns the totals."""
        total = SyncReport()
        while not stop.is_set():
            report = self.run_once(stop)
            total.add(report)
            if on_report is not None:
                on_report(report)
            stop.wait(self.options.interval)
        return total


def _mtime(path: Path, default: float) -> float:
    """Modification time, or `default` for a file that vanished meanwhile."""
    try:
        return path.stat().st_mtime
    except OSError:
        return default
