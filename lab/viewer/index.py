"""The in-memory recording index: built off the request path, swapped atomically.

A background thread lists the storage on a schedule (and when asked), parses every name and
publishes an immutable `Snapshot`. Requests only ever read the current snapshot, so a slow or
failing storage never blocks a page: it shows the last good index and the reason for the failure.
Snapshots keep posting lists per facet value and ranks per sortable column, so a filtered, sorted
page over 100,000 recordings costs a few set intersections and one sort of the matches.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lab.viewer.names import Recording, parse
from lab.viewer.refresher import Refresher
from lab.viewer.storage import Storage, StorageError

log = logging.getLogger("lab.viewer.index")

FACETS = ("protocol", "team", "project", "server", "user")
SORTS = ("started", "protocol", "team", "project", "server", "user", "size", "name")
PER_PAGE_CHOICES = (10, 25, 50, 100)  # suggested in the list form; any 1..MAX_PER_PAGE works
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50


@dataclass(frozen=True)
class Query:
    """A list-page request, already parsed; unknown values are kept so the page can say so."""

    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()  # (facet, value)
    start: datetime | None = None  # UTC, inclusive (lab.viewer.timerange)
    end: datetime | None = None  # UTC, exclusive
    sort: str = "started"
    descending: bool = True
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class Page:
    items: list[Recording]
    total: int
    page: int
    pages: int
    per_page: int
    unknown: list[tuple[str, str]]  # filter values that match nothing in the index


@dataclass
class Snapshot:
    """One immutable view of the storage. `_ranks` is a private, lazily filled cache."""

    recordings: tuple[Recording, ...] = ()
    built_at: datetime | None = None
    seconds: float = 0.0
    error: str = ""
    facets: dict[str, Counter[str]] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)
    total_size: int = 0
    unparsed: int = 0
    postings: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    haystack: tuple[str, ...] = ()
    by_id: dict[str, int] = field(default_factory=dict)
    tree: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    _neg_times: list[float] = field(default_factory=list)
    _ranks: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, recordings: list[Recording], seconds: float = 0.0) -> Snapshot:
        recordings, aliases = join_parts(recordings)
        recordings.sort(key=lambda r: (r.started, r.id), reverse=True)
        facets: dict[str, Counter[str]] = {f: Counter() for f in FACETS}
        postings: dict[str, dict[str, list[int]]] = {f: {} for f in FACETS}
        by_day: Counter[str] = Counter()
        hay = []
        tree: dict[str, dict[str, dict[str, int]]] = {}
        for i, r in enumerate(recordings):
            if r.parsed:
                servers = tree.setdefault(r.team, {}).setdefault(r.project, {})
                servers[r.server] = servers.get(r.server, 0) + 1
            for f in FACETS:
                value = getattr(r, f)
                if value:
                    facets[f][value] += 1
                    postings[f].setdefault(value, []).append(i)
            by_day[r.day] += 1
            hay.append(f"{r.name} {r.team} {r.project} {r.server} {r.user}".lower())
        return cls(
            recordings=tuple(recordings),
            built_at=datetime.now(UTC),
            seconds=seconds,
            facets=facets,
            by_day=dict(sorted(by_day.items())),
            total_size=sum(r.size for r in recordings),
            unparsed=sum(1 for r in recordings if not r.parsed),
            postings=postings,
            haystack=tuple(hay),
            by_id=_ids(recordings, aliases),
            tree=tree,
            _neg_times=[-r.started.timestamp() for r in recordings],
        )

    def get(self, rid: str) -> Recording | None:
        i = self.by_id.get(rid)
        return None if i is None else self.recordings[i]

    def values(self, facet: str) -> list[str]:
        return sorted(self.facets.get(facet, {}), key=str.lower)

    def _rank(self, column: str) -> list[int]:
        with self._lock:
            if column not in self._ranks:
                rs = self.recordings
                if column == "size":
                    order = sorted(range(len(rs)), key=lambda i: rs[i].size)
                else:
                    order = sorted(range(len(rs)), key=lambda i: str(getattr(rs[i], column)).lower())
                rank = [0] * len(rs)
                for pos, i in enumerate(order):
                    rank[i] = pos
                self._ranks[column] = rank
            return self._ranks[column]

    def query(self, query: Query) -> Page:
        """Filter, search, sort and paginate; page numbers past the end show the last page."""
        unknown = [(f, v) for f, v in query.filters if v not in self.postings.get(f, {})]
        candidates: list[int] | None = None
        if unknown:
            candidates = []
        else:
            for facet, value in query.filters:
                posting = self.postings[facet][value]
                if candidates is None:
                    candidates = posting
                else:
                    keep = set(posting)
                    candidates = [i for i in candidates if i in keep]
        lo, hi = 0, len(self.recordings)
        if query.end is not None:  # exact instants: the names keep microseconds
            lo = bisect.bisect_right(self._neg_times, -query.end.timestamp())
        if query.start is not None:
            hi = bisect.bisect_right(self._neg_times, -query.start.timestamp())
        if candidates is None:
            candidates = list(range(lo, hi))
        elif (lo, hi) != (0, len(self.recordings)):
            candidates = [i for i in candidates if lo <= i < hi]
        needle = query.q.strip().lower()
        if needle:
            hay = self.haystack
            candidates = [i for i in candidates if needle in hay[i]]
        if query.sort != "started":
            rank = self._rank(query.sort)
            candidates = sorted(candidates, key=rank.__getitem__, reverse=query.descending)
        elif not query.descending:
            candidates = candidates[::-1]
        total = len(candidates)
        pages = max(1, -(-total // query.per_page))
        page = min(max(1, query.page), pages)
        start_at = (page - 1) * query.per_page
        items = [self.recordings[i] for i in candidates[start_at : start_at + query.per_page]]
        return Page(items, total, page, pages, query.per_page, unknown)


def join_parts(recordings: list[Recording]) -> tuple[list[Recording], dict[str, str]]:
    """RDP exports in parts (`<stem>.asa-1.mkv`, `<stem>.asa-2.mkv`, ...) become one session:
    the first part's metadata, every part id in numeric order, the total size. Returns the
    recordings and, for every other part, the id of the session it belongs to."""
    groups: dict[str, list[Recording]] = {}
    for r in recordings:
        if r.session:
            groups.setdefault(r.session, []).append(r)
    joined = {k: sorted(g, key=lambda r: (r.part, r.id)) for k, g in groups.items() if len(g) > 1}
    if not joined:
        return recordings, {}
    out: list[Recording] = []
    aliases: dict[str, str] = {}
    for r in recordings:
        group = joined.get(r.session) if r.session else None
        if group is None:
            out.append(r)
        elif r is group[0]:
            out.append(replace(r, parts=tuple(p.id for p in group), size=sum(p.size for p in group)))
        else:
            aliases[r.id] = group[0].id
    return out, aliases


def _ids(recordings: list[Recording], aliases: dict[str, str]) -> dict[str, int]:
    by_id = {r.id: i for i, r in enumerate(recordings)}
    for part, first in aliases.items():
        by_id[part] = by_id[first]
    return by_id


@dataclass(frozen=True)
class RefreshProgress:
    """Where a refresh is: `phase` idle | listing | indexing, objects listed so far, and the size
    of the last good index as the expected total (0 before the first)."""

    phase: str = "idle"
    started_at: float = 0.0  # epoch seconds of the current or last refresh
    listed: int = 0
    expected: int = 0


class RecordingIndex:
    """Owns the current snapshot and the thread that refreshes it."""

    def __init__(self, storage: Storage, refresh_seconds: float = 300.0) -> None:
        self.storage = storage
        self.refresh_seconds = refresh_seconds
        self._snapshot = Snapshot()
        self._refresher = Refresher(self.refresh_now, refresh_seconds, "viewer-index", 10)
        self._building = threading.Lock()
        self.refreshing = False
        self.listeners: list[Callable[[], object]] = []  # called after each new snapshot (must not block)
        self.progress = RefreshProgress()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def refresh_now(self) -> Snapshot:
        """List the storage and publish a new snapshot (keeps the old one on failure)."""
        with self._building:
            self.refreshing = True
            started = time.perf_counter()
            self.progress = RefreshProgress("listing", time.time(), 0, len(self._snapshot.recordings))
            try:
                recordings = []
                for o in self.storage.list():
                    recordings.append(parse(o.key, o.size, o.mtime))
                    if not len(recordings) % 1000:
                        self.progress = replace(self.progress, listed=len(recordings))
            except StorageError as exc:
                old = self._snapshot
                log.warning("index refresh failed: %s", exc)
                self._snapshot = Snapshot(**{k: getattr(old, k) for k in _KEEP}, error=str(exc), built_at=old.built_at)
                return self._snapshot
            finally:
                self.refreshing = False
                self.progress = replace(self.progress, phase="idle")
            self.progress = replace(self.progress, phase="indexing", listed=len(recordings))
            snap = Snapshot.build(recordings, time.perf_counter() - started)
            self._snapshot = snap
            self.progress = replace(self.progress, phase="idle")
            log.info("index: %d recordings in %.2fs", len(snap.recordings), snap.seconds)
            for listener in self.listeners:
                listener()
            return snap

    def request_refresh(self) -> None:
        """Ask the background thread for a refresh now; returns immediately."""
        self._refresher.request()

    def start(self) -> None:
        self._refresher.start()

    def stop(self) -> None:
        self._refresher.stop()


_KEEP = (
    "recordings",
    "seconds",
    "facets",
    "by_day",
    "total_size",
    "unparsed",
    "postings",
    "haystack",
    "by_id",
    "tree",
    "_neg_times",
)
