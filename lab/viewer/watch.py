"""`lab viewer sync --watch`: react to new `.asa` files through inotify (watchdog), as a service.

At start, and every `interval` seconds after, a full pass (`Syncer.run_once`) catches anything
missed and applies the age-based cleanup. In between, watchdog's inotify observer reports files
closed after writing, created or moved into the source tree; each is handled once it has not
changed for `settle_seconds` (the gateway may still be writing it). `stop` ends the loop after
the current file (SIGTERM from systemd, Ctrl-C).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileClosedEvent, FileCreatedEvent, FileMovedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from lab.viewer.sync import Syncer, SyncReport

log = logging.getLogger("lab.viewer.sync")


class _NewRecordings(FileSystemEventHandler):
    """Queues the path of every `.asa` file that appears or is finished being written."""

    def __init__(self, found: queue.Queue[Path]) -> None:
        self.found = found

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            path = event.dest_path
        elif isinstance(event, FileCreatedEvent | FileClosedEvent):
            path = event.src_path
        else:
            return
        text = path.decode() if isinstance(path, bytes) else path
        if text.endswith(".asa"):
            self.found.put(Path(text))


def watch(
    syncer: Syncer,
    stop: threading.Event,
    on_report: Callable[[SyncReport], None] | None = None,
    tick: float = 0.25,
) -> SyncReport:
    """Run until `stop` is set; returns the totals. `on_report` gets each non-empty batch."""
    options = syncer.options
    found: queue.Queue[Path] = queue.Queue()
    observer = Observer()
    observer.schedule(_NewRecordings(found), str(options.source), recursive=True)
    observer.start()
    total = SyncReport()
    due: dict[Path, float] = {}  # path -> when it was last seen changing
    next_scan = 0.0
    try:
        while not stop.is_set():
            now = time.monotonic()
            batch = SyncReport()
            if now >= next_scan:
                batch.add(syncer.run_once(stop))
                next_scan = time.monotonic() + options.interval
                due.clear()
            while True:
                try:
                    due[found.get_nowait()] = time.monotonic()
                except queue.Empty:
                    break
            for path, seen in sorted(due.items(), key=lambda item: item[1]):
                if stop.is_set():
                    break
                if not path.exists():
                    del due[path]
                    continue
                quiet = time.time() - path.stat().st_mtime
                if time.monotonic() - seen < options.settle_seconds or quiet < options.settle_seconds:
                    continue
                del due[path]
                if syncer.stored(path) and not options.delete_after_upload:
                    continue  # the full pass handled it already
                syncer.process(path, batch)
            total.add(batch)
            if on_report is not None and (batch.uploaded or batch.failed or batch.deleted):
                on_report(batch)
            stop.wait(tick)
    finally:
        observer.stop()
        observer.join(timeout=5)
    return total
