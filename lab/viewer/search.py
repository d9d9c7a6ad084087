"""Full-text search inside SSH sessions: what was shown and typed, in an SQLite FTS5 index.

The index is one SQLite file (`VIEWER_SEARCH_DB`, default `data/viewer/search.sqlite3`). It is
filled off the request path by its own background thread, woken after every refresh of the
recording index: recordings that appeared or changed size are read (the first
`VIEWER_SEARCH_MAX_KB` KiB of each, from the folder or S3), turned into lines by
`lab.viewer.castext`, and written in batches; recordings that disappeared are removed. Requests
only read (WAL mode: a read never waits for the writer).

Tables: `recordings(sid, id, size, status, indexed_bytes, lines, note)` with `status` one of
`ok`, `truncated` (larger than the limit: indexed up to it) and `not-text` (not an asciicast;
nothing indexed); a recording the storage fails to return is tried again at the next refresh.
And the FTS5 table `lines(shown, typed, t, tc)`, one row per line, whose rowid is
`sid << 20 | n`, so a recording's lines are one rowid range (cheap to delete and to look up).
Docs: https://www.sqlite.org/fts5.html
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from lab.viewer.castext import Line, NotACast, extract
from lab.viewer.index import RecordingIndex, Snapshot
from lab.viewer.names import Recording
from lab.viewer.refresher import Refresher
from lab.viewer.storage import NotFound, Storage, StorageError

log = logging.getLogger("lab.viewer.search")

SCHEMA_VERSION = "1"
LINE_BITS = 20  # rowid = sid << LINE_BITS | line number
MAX_LINES = (1 << LINE_BITS) - 1
MAX_ROWS = 200_000  # hits read for one query; more are counted as "at least"
WHERE = ("all", "typed", "shown")
PER_PAGE = 20
BATCH = 64  # recordings read, then extracted, together
POOL_FROM = 2 * BATCH  # fewer new recordings than this are extracted in the writer thread
HITS_SHOWN = 5
_HIT_OPEN, _HIT_CLOSE = "\x02", "\x03"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recordings(
    sid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    indexed_bytes INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE IF NOT EXISTS lines USING fts5(
    shown, typed, t UNINDEXED, tc UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
"""


class SearchError(ValueError):
    """The search text cannot be searched for; the message says why, for the page."""


@dataclass(frozen=True)
class Hit:
    t: float  # seconds from the start, as recorded
    tc: float  # seconds on the player's clock
    kind: str  # "typed" or "shown"
    parts: tuple[tuple[str, bool], ...]  # the line's text around the hit: (text, is_match)


@dataclass(frozen=True)
class SessionHits:
    recording: Recording
    count: int
    hits: tuple[Hit, ...]
    status: str  # "ok" or "truncated"
    note: str


@dataclass(frozen=True)
class Result:
    sessions: tuple[SessionHits, ...]
    total_sessions: int
    total_hits: int
    capped: bool  # more than MAX_ROWS lines matched; counts are lower bounds
    page: int
    pages: int


@dataclass
class Status:
    """What the index holds and how the last refresh went, for the search page."""

    counts: dict[str, int] = field(default_factory=dict)  # recordings per status
    pending: int = 0  # recordings of the last snapshot not indexed yet
    building: bool = False
    built_at: float | None = None
    seconds: float = 0.0  # the last refresh: wall-clock time
    cpu_seconds: float = 0.0  # and CPU time, the writer thread's and its worker processes'
    error: str = ""

    @property
    def indexed(self) -> int:
        return sum(self.counts.values())


def fts_query(text: str, where: str = "all") -> str:
    """An FTS5 query for what the user typed, with no FTS5 syntax of theirs passed through.

    Without double quotes the whole text is one phrase (`sudo su` finds lines with "sudo"
    followed by "su"); with them, each quoted part is a phrase and each other word a term, all
    in the same line. A trailing `*` makes the last word a prefix. `where` limits the match to
    typed (input events) or shown (output events) text.
    """
    text = text.strip()
    if not re.search(r"\w", text):
        raise SearchError("Type a word to search for (letters or digits).")
    pieces = [m.group(1) or m.group(2) for m in re.finditer(r'"([^"]*)"|([^\s"]+)', text)] if '"' in text else [text]
    terms = []
    for piece in pieces:
        prefix = piece.endswith("*")
        piece = piece.rstrip("*").strip()
        if not re.search(r"\w", piece):
            continue
        quoted = '"' + piece.replace('"', '""') + '"'
        terms.append(quoted + " *" if prefix else quoted)
    if not terms:
        raise SearchError("Type a word to search for (letters or digits).")
    query = " AND ".join(terms)
    if where == "typed":
        return f"typed : ({query})"
    if where == "shown":
        return f"shown : ({query})"
    return query


Row = tuple[str | None, str | None, float, float]  # (shown, typed, t, tc)


def _rows(lines: list[Line]) -> list[Row]:
    """(shown, typed, t, tc) rows: lines that appeared together (same time, same direction: one
    burst of output) share a row, which keeps the index small and its hits as precise."""
    rows: list[Row] = []
    group: list[str] = []
    key: tuple[float, str] | None = None
    tc = 0.0
    for t, line_tc, kind, text in lines:
        if (t, kind) != key:
            if group and key is not None:
                _add_row(rows, key, tc, group)
            group, key, tc = [], (t, kind), line_tc
        group.append(text)
    if group and key is not None:
        _add_row(rows, key, tc, group)
    return rows


def _add_row(rows: list[Row], key: tuple[float, str], tc: float, group: list[str]) -> None:
    text = "\n".join(group)
    t, kind = round(key[0], 3), key[1]
    rows.append((text, None, t, round(tc, 3)) if kind == "o" else (None, text, t, round(tc, 3)))


Prepared = tuple[str, list[Row], str, float]  # ("ok" | "not-text", rows, why not, CPU seconds)


def _prepare(data: bytes) -> Prepared:
    """The index rows of one recording (runs in a worker process for large batches)."""
    started = time.thread_time()
    try:
        return "ok", _rows(extract(data).lines), "", time.thread_time() - started
    except NotACast as exc:
        return "not-text", [], str(exc), time.thread_time() - started


def _parts(snippet: str) -> tuple[tuple[str, bool], ...]:
    out: list[tuple[str, bool]] = []
    for i, piece in enumerate(re.split(f"[{_HIT_OPEN}{_HIT_CLOSE}]", snippet)):
        if piece:
            out.append((piece, i % 2 == 1))
    return tuple(out)


class SearchIndex:
    """The FTS5 index of one storage's SSH recordings, and the thread that keeps it current."""

    def __init__(
        self,
        path: Path,
        index: RecordingIndex,
        storage: Storage,
        *,
        max_bytes: int = 16 << 20,
        readers: int = 8,
        workers: int | None = None,
        batch_seconds: float = 2.0,
    ) -> None:
        self.path = path
        self.index = index
        self.storage = storage
        self.max_bytes = max_bytes
        self.readers = readers
        self.workers = min(4, os.cpu_count() or 1) if workers is None else workers
        self._last_commit = 0.0
        self.batch_seconds = batch_seconds
        self.status = Status()
        self._sessions: dict[int, tuple[str, str, str]] = {}  # sid -> (id, status, note)
        self._local = threading.local()
        self._writing = threading.Lock()
        self._stopping = threading.Event()
        self._refresher = Refresher(self.refresh_now, index.refresh_seconds, "viewer-search", 10)
        index.listeners.append(self._refresher.request)

    # -- the background writer ---------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._refresher.start()

    def stop(self) -> None:
        self._stopping.set()
        self._refresher.stop()

    def request_refresh(self) -> None:
        self._refresher.request()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        version = None
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = row[0] if row else None
        except sqlite3.OperationalError:
            pass
        if version not in (None, SCHEMA_VERSION):  # an index from another version: start over
            log.info("search index %s has schema %s; rebuilding", self.path, version)
            db.executescript("DROP TABLE IF EXISTS lines; DROP TABLE IF EXISTS recordings; DROP TABLE IF EXISTS meta;")
        db.executescript(_SCHEMA)
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        db.commit()
        return db

    def refresh_now(self) -> Status:
        """Bring the index up to date with the recording index's current snapshot."""
        with self._writing:
            snap = self.index.snapshot
            if snap.built_at is None:
                return self.status
            started, cpu = time.perf_counter(), time.thread_time()
            self.status.building = True
            self.status.cpu_seconds = 0.0
            try:
                db = self._connect()
                try:
                    self._sync(db, snap)
                finally:
                    db.close()
            except (sqlite3.Error, OSError) as exc:
                log.error("search index %s: %s", self.path, exc)
                self.status.error = f"the search index cannot be written: {exc}"
            finally:
                self.status.building = False
            self.status.built_at = time.time()
            self.status.seconds = time.perf_counter() - started
            self.status.cpu_seconds += time.thread_time() - cpu
            return self.status

    def _sync(self, db: sqlite3.Connection, snap: Snapshot) -> None:
        known = {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, sid, size FROM recordings")}
        current = [r for r in snap.recordings if r.kind == "cast"]
        wanted = {r.id for r in current}
        gone = [sid for rid, (sid, _) in known.items() if rid not in wanted]
        if not snap.error:  # a failed listing keeps the old snapshot: delete nothing then
            for sid in gone:
                self._delete(db, sid)
        todo = [r for r in current if r.id not in known or known[r.id][1] != r.size]
        self.status.pending = len(todo)
        self._reload(db)
        self._last_commit = time.monotonic()
        failed: list[str] = []
        pool = self._pool(len(todo))
        try:
            # extract batch N (in worker processes) while batch N+1 is read
            waiting: tuple[list[tuple[Recording, bytes]], Iterator[Prepared]] | None = None
            for batch in self._read(todo, failed):
                datas = [data for _, data in batch]
                prepared = pool.map(_prepare, datas, chunksize=4) if pool else map(_prepare, datas)
                if waiting is not None:
                    self._store(db, *waiting, known, pool is not None)
                waiting = (batch, prepared)
                if self._stopping.is_set():
                    break
            if waiting is not None and not self._stopping.is_set():
                self._store(db, *waiting, known, pool is not None)
        except BrokenProcessPool:  # e.g. the main module cannot be imported by a worker
            log.warning("search index: worker processes failed; indexing in one thread")
            self.workers = 0
            self._sync(db, snap)
            return
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._reload(db)
        self.status.error = f"{len(failed)} recordings could not be read ({failed[0]})" if failed else ""
        if todo or gone:
            log.info("search index: %d indexed, %d removed", len(todo) - self.status.pending, len(gone))

    def _pool(self, todo: int) -> ProcessPoolExecutor | None:
        """Worker processes for a large batch (the text of a recording is pure-Python work)."""
        if self.workers < 2 or todo < POOL_FROM:
            return None
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"))

    def _store(
        self,
        db: sqlite3.Connection,
        batch: list[tuple[Recording, bytes]],
        prepared: Iterator[Prepared],
        known: dict[str, tuple[int, int]],
        pool_used: bool,
    ) -> None:
        for (rec, data), (status, rows, reason, cpu) in zip(batch, prepared, strict=True):
            if pool_used:
                self.status.cpu_seconds += cpu
            if self._stopping.is_set():
                return
            old = known.get(rec.id)
            if old is not None:
                self._delete(db, old[0])
            if status == "not-text":
                self._insert(db, rec, "not-text", len(data), [], f"not searchable: {reason}")
            else:
                truncated = rec.size > len(data) or rec.size > self.max_bytes or len(rows) > MAX_LINES
                note = ""
                if truncated:
                    note = f"only the first {len(data) // 1024:,} KiB of {rec.size // 1024:,} KiB are searchable"
                self._insert(db, rec, "truncated" if truncated else "ok", len(data), rows[:MAX_LINES], note)
            self.status.pending -= 1
            if time.monotonic() - self._last_commit >= self.batch_seconds:
                self._reload(db)
                self._last_commit = time.monotonic()

    def _read(self, todo: list[Recording], failed: list[str]) -> Iterator[list[tuple[Recording, bytes]]]:
        """Batches of (recording, bytes) in order, read by a few threads (S3 answers one GET at a
        time); what the storage fails to return goes to `failed`, to be tried at the next refresh."""

        def fetch(rec: Recording) -> bytes | StorageError | None:
            if self._stopping.is_set():
                return None
            try:
                return self.storage.read_head(rec.id, max(1, min(rec.size, self.max_bytes)))
            except NotFound:
                return None  # gone since the listing; the next refresh removes it
            except StorageError as exc:
                return exc

        with ThreadPoolExecutor(self.readers, thread_name_prefix="viewer-search-read") as pool:
            for start in range(0, len(todo), BATCH):
                chunk = todo[start : start + BATCH]
                batch = []
                for rec, data in zip(chunk, pool.map(fetch, chunk), strict=True):
                    if isinstance(data, StorageError):
                        failed.append(str(data))
                    elif data is not None:
                        batch.append((rec, data))
                yield batch
                if self._stopping.is_set():
                    return

    def _delete(self, db: sqlite3.Connection, sid: int) -> None:
        db.execute("DELETE FROM lines WHERE rowid BETWEEN ? AND ?", (sid << LINE_BITS, (sid << LINE_BITS) | MAX_LINES))
        db.execute("DELETE FROM recordings WHERE sid = ?", (sid,))

    def _insert(
        self,
        db: sqlite3.Connection,
        rec: Recording,
        status: str,
        nbytes: int,
        rows: list[tuple[str | None, str | None, float, float]],
        note: str,
    ) -> None:
        cur = db.execute(
            "INSERT INTO recordings(id, size, status, indexed_bytes, lines, note) VALUES (?, ?, ?, ?, ?, ?)",
            (rec.id, rec.size, status, nbytes, len(rows), note),
        )
        base = int(cur.lastrowid or 0) << LINE_BITS
        db.executemany(
            "INSERT INTO lines(rowid, shown, typed, t, tc) VALUES (?, ?, ?, ?, ?)",
            ((base | n, *row) for n, row in enumerate(rows)),
        )

    def _reload(self, db: sqlite3.Connection) -> None:
        """Commit, then publish the id map and the counts for readers."""
        db.commit()
        sessions = {
            sid: (rid, status, note)
            for sid, rid, status, note in db.execute("SELECT sid, id, status, note FROM recordings")
        }
        self._sessions = sessions
        self.status.counts = dict(Counter(status for _, status, _ in sessions.values()))

    # -- queries ----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection | None:
        """This thread's read-only connection, opened again when the file was replaced."""
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            return None
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or getattr(self._local, "inode", None) != inode:
            if db is not None:
                db.close()
            db = sqlite3.connect(self.path, timeout=5, check_same_thread=False)
            db.execute("PRAGMA query_only = 1")
            self._local.db, self._local.inode = db, inode
        return db

    def search(self, text: str, where: str = "all", page: int = 1, allowed: Iterable[str] | None = None) -> Result:
        """Sessions whose lines match `text`, newest first, `PER_PAGE` a page, the first
        `HITS_SHOWN` hits of each in time order. Raises SearchError for text that cannot be
        searched. `allowed`, when given, limits the result to those recording ids."""
        query = fts_query(text, where if where in WHERE else "all")
        snap = self.index.snapshot
        db = self._reader()
        if db is None:
            return Result((), 0, 0, False, 1, 1)
        try:  # one pass over the matches, counted per recording inside SQLite
            counted = db.execute(
                f"SELECT rowid >> {LINE_BITS}, count(*) FROM "
                "(SELECT rowid FROM lines WHERE lines MATCH ? LIMIT ?) GROUP BY 1",
                (query, MAX_ROWS + 1),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise SearchError(f"That search cannot be run ({exc}).") from None
        counts = dict(counted)
        capped = sum(counts.values()) > MAX_ROWS
        sessions = self._sessions
        keep = set(allowed) if allowed is not None else None
        found: list[tuple[int, int, Recording]] = []
        for sid, _n in counts.items():
            meta = sessions.get(sid)
            if meta is None or (keep is not None and meta[0] not in keep):
                continue
            pos = snap.by_id.get(meta[0])
            if pos is not None:
                found.append((pos, sid, snap.recordings[pos]))
        found.sort()
        pages = max(1, -(-len(found) // PER_PAGE))
        page = min(max(1, page), pages)
        shown = []
        for _, sid, rec in found[(page - 1) * PER_PAGE : page * PER_PAGE]:
            lo = sid << LINE_BITS
            rows = db.execute(
                "SELECT t, tc, typed IS NOT NULL, snippet(lines, -1, ?, ?, '…', 24) FROM lines "
                "WHERE lines MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT ?",
                (_HIT_OPEN, _HIT_CLOSE, query, lo, lo | MAX_LINES, HITS_SHOWN),
            ).fetchall()
            hits = tuple(
                Hit(float(t), float(tc), "typed" if typed else "shown", _parts(snip)) for t, tc, typed, snip in rows
            )
            _, status, note = sessions[sid]
            shown.append(SessionHits(rec, counts[sid], hits, status, note))
        total_hits = sum(counts[sid] for _, sid, _ in found)
        return Result(tuple(shown), len(found), total_hits, capped, page, pages)

    def marked(self, limit: int = 50) -> list[tuple[str, str, str]]:
        """Recordings not (fully) searchable: (id, status, note), for the search page."""
        out = [meta for meta in self._sessions.values() if meta[1] != "ok"]
        return sorted(out)[:limit]
