"""The in-memory index: filters, search, sorting, pagination, refresh without blocking."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from lab.viewer.index import Query, RecordingIndex, Snapshot
from lab.viewer.names import parse
from lab.viewer.storage import StorageError, StoredObject

NAMES = [
    "ssh~20260510T100000.1~ops~core~bastion~luke~a.cast",
    "ssh~20260511T100000.1~ops~core~dns~leia~b.cast",
    "rdp~20260512T100000.1~sec~web~win-01~han~c.asa-1.mkv",
    "ssh~20260512T120000.1~sec~web~web-01~luke~d.cast",
    "garbage.cast",
]


def snapshot() -> Snapshot:
    return Snapshot.build([parse(n, size=i * 10, mtime=0) for i, n in enumerate(NAMES)])


def names(snap: Snapshot, query: Query) -> list[str]:
    return [r.name for r in snap.query(query).items]


def test_newest_first_by_default() -> None:
    got = names(snapshot(), Query())
    assert got[0].startswith("ssh~20260512T12") and got[-1] == "garbage.cast"


def test_facets_count_every_value() -> None:
    snap = snapshot()
    assert snap.facets["team"] == {"ops": 2, "sec": 2}
    assert snap.facets["protocol"] == {"ssh": 4, "rdp": 1}
    assert snap.unparsed == 1
    assert snap.tree == {
        "ops": {"core": {"bastion": 1, "dns": 1}},
        "sec": {"web": {"win-01": 1, "web-01": 1}},
    }


def test_filters_combine() -> None:
    q = Query(filters=(("team", "sec"), ("user", "luke")))
    assert names(snapshot(), q) == [NAMES[3]]


def test_unknown_filter_value_matches_nothing_and_is_reported() -> None:
    page = snapshot().query(Query(filters=(("team", "nope"),)))
    assert page.total == 0 and page.unknown == [("team", "nope")]


def test_date_range_is_inclusive() -> None:
    q = Query(start=datetime(2026, 5, 11, tzinfo=UTC), end=datetime(2026, 5, 13, tzinfo=UTC))
    assert sorted(names(snapshot(), q)) == sorted(NAMES[1:4])


def test_search_is_case_insensitive_substring() -> None:
    assert names(snapshot(), Query(q="WIN-0")) == [NAMES[2]]


def test_sort_by_column_both_ways() -> None:
    snap = snapshot()
    up = [r.user for r in snap.query(Query(sort="user", descending=False)).items]
    assert up == ["", "han", "leia", "luke", "luke"]
    down = names(snapshot(), Query(sort="size", descending=True))
    assert down[0] == "garbage.cast"


def test_huge_page_number_shows_last_page() -> None:
    page = snapshot().query(Query(page=10**9, per_page=2))
    assert page.page == page.pages == 3 and len(page.items) == 1


class FlakyStorage:
    def __init__(self) -> None:
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def list(self) -> Iterator[StoredObject]:
        self.gate.wait(5)
        if self.fail:
            raise StorageError("bucket 'x' does not exist")
        return iter([StoredObject(n, 1, 0.0) for n in NAMES])


def test_failed_refresh_keeps_last_index_and_reports_reason() -> None:
    storage = FlakyStorage()
    index = RecordingIndex(storage)  # type: ignore[arg-type]
    assert len(index.refresh_now().recordings) == 5
    storage.fail = True
    snap = index.refresh_now()
    assert len(snap.recordings) == 5 and "does not exist" in snap.error
    storage.fail = False
    assert index.refresh_now().error == ""


def test_refresh_does_not_block_readers() -> None:
    storage = FlakyStorage()
    index = RecordingIndex(storage, refresh_seconds=3600)  # type: ignore[arg-type]
    index.refresh_now()
    storage.gate.clear()  # the next listing hangs until released
    index.start()
    try:
        index.request_refresh()
        # readers still get the current snapshot at once
        assert len(index.snapshot.query(Query()).items) == 5
    finally:
        storage.gate.set()
        index.stop()
