"""A background thread that calls `refresh()` on a schedule and on demand, never dying."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("lab.viewer")


class Refresher:
    """Runs `refresh` every `interval` seconds, and at once after `request()`."""

    def __init__(self, refresh: Callable[[], object], interval: float, name: str, join_timeout: float) -> None:
        self._refresh = refresh
        self.interval = interval
        self._name = name
        self._join_timeout = join_timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for a refresh now; returns immediately."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self._join_timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._refresh()
            except Exception:  # never let the refresher die
                log.exception("%s refresh crashed", self._name)
            self._wake.wait(self.interval)
            self._wake.clear()
