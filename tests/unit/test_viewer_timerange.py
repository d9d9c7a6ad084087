"""Time bounds of the list and the API: days and ISO 8601 date-times, zones, exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import QueryParams

from lab.viewer.index import Query, Snapshot
from lab.viewer.names import parse
from lab.viewer.pages import parse_query, parse_range, range_view
from lab.viewer.timerange import BadTime, parse_bound, zone

PARIS = zone("Europe/Paris")
STAMPS = ["20261207T102959.999999", "20261207T103000.000000", "20261207T103000.500000", "20261207T103059.999999",
          "20261207T103100.000000"]  # fmt: skip
NAMES = [f"ssh~{s}~ops~core~bastion~luke~{i}.cast" for i, s in enumerate(STAMPS)]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "start", "step"),
    [
        ("2026-12-07", at(2026, 12, 7), timedelta(days=1)),
        ("2026-12-07T10:30", at(2026, 12, 7, 10, 30), timedelta(minutes=1)),
        ("2026-12-07 10:30", at(2026, 12, 7, 10, 30), timedelta(minutes=1)),
        ("2026-12-07T10:30:05", at(2026, 12, 7, 10, 30, 5), timedelta(seconds=1)),
        ("2026-12-07T10:30:05.5", at(2026, 12, 7, 10, 30, 5, 500000), timedelta(microseconds=1)),
        ("2026-12-07T10:30Z", at(2026, 12, 7, 10, 30), timedelta(minutes=1)),
        ("2026-12-07T10:30+01:00", at(2026, 12, 7, 9, 30), timedelta(minutes=1)),
        ("2026-12-07T10:30-0530", at(2026, 12, 7, 16, 0), timedelta(minutes=1)),
    ],
)
def test_forms_and_their_precision(text: str, start: datetime, step: timedelta) -> None:
    bound = parse_bound(text)
    assert bound.start == start and bound.step == step and bound.end == start + step


def test_times_without_offset_are_read_in_the_zone_dst_included() -> None:
    assert PARIS is not None
    assert parse_bound("2026-12-07T10:30", PARIS).start == at(2026, 12, 7, 9, 30)  # CET, +01:00
    assert parse_bound("2026-07-07T10:30", PARIS).start == at(2026, 7, 7, 8, 30)  # CEST, +02:00
    assert parse_bound("2026-07-07", PARIS).start == at(2026, 7, 6, 22, 0)  # the local midnight
    assert parse_bound("2026-07-07T10:30Z", PARIS).start == at(2026, 7, 7, 10, 30)  # an offset wins


@pytest.mark.parametrize("text", ["13/03/2026", "2026-02-30", "2026-12-07T25:00", "2026-12-07T10", "yesterday",
                                  "2026-12-07T10:30+24:00", "2026-12-07T10:30:05.1234567"])  # fmt: skip
def test_bad_times_say_what_to_use(text: str) -> None:
    with pytest.raises(BadTime, match="use YYYY-MM-DD or YYYY-MM-DDTHH:MM"):
        parse_bound(text)


def test_zone_names() -> None:
    assert zone("") is UTC and zone(None) is UTC
    assert zone("Nowhere/City") is None and zone("../../etc/passwd") is None and zone("x" * 100) is None


def test_bounds_are_exact_instants_below_the_second() -> None:
    snap = Snapshot.build([parse(n, size=1, mtime=0) for n in NAMES])

    def got(**params: str) -> list[str]:
        query, notes = parse_query(QueryParams(params))
        assert notes == []
        return [r.name[-6:-5] for r in snap.query(query).items]

    assert got(**{"from": "2026-12-07T10:30", "to": "2026-12-07T10:30"}) == ["3", "2", "1"]  # the whole minute
    assert got(**{"from": "2026-12-07T10:30:00.5Z", "to": "2026-12-07T10:30:59.999999Z"}) == ["3", "2"]
    assert got(**{"to": "2026-12-07T10:29:59.999999"}) == ["0"]
    assert got(**{"from": "2026-12-07T11:30+01:00", "to": "2026-12-07T11:30+01:00", "order": "asc"}) == ["1", "2", "3"]
    assert got(**{"from": "2026-12-07T11:30", "tz": "Europe/Paris"}) == ["4", "3", "2", "1"]
    query, _ = parse_query(QueryParams({"from": "2026-12-07", "to": "2026-12-07"}))
    assert snap.query(query).total == 5 and query == Query(start=at(2026, 12, 7), end=at(2026, 12, 8))


def test_from_after_to_is_explained() -> None:
    notes: list[str] = []
    parse_range(QueryParams({"from": "2026-12-07T10:31", "to": "2026-12-07T10:30"}), notes)
    assert notes == ["The from time 2026-12-07 10:31 UTC is after the to time 2026-12-07 10:30 UTC, "
                     "so nothing can match: swap them."]  # fmt: skip
    notes = []
    parse_range(QueryParams({"tz": "Mars/Olympus", "from": "2026-12-07T10:30"}), notes)
    assert notes == ["Unknown time zone 'Mars/Olympus'; times read as UTC."]


def test_the_form_shows_the_bounds_in_the_zone_and_in_utc() -> None:
    params = QueryParams({"from": "2026-12-07T10:30", "to": "2026-12-07T23:59", "tz": "Europe/Paris"})
    query, _ = parse_query(params)
    _, _, tz = parse_range(params, [])
    view = range_view(query, tz)
    assert view["from"] == "2026-12-07T10:30" and view["from_utc"] == "2026-12-07 09:30 UTC"
    assert view["to"] == "2026-12-07T23:59" and view["to_utc"] == "2026-12-07 22:59 UTC"
    assert view["to_iso"] == "2026-12-07T22:59:59.999999+00:00"


@pytest.mark.parametrize(("text", "size", "noted"), [("10", 10, False), ("37", 37, False), ("1", 1, False),
                                                     ("100", 100, False), ("0", 50, True), ("101", 50, True),
                                                     ("ten", 50, True)])  # fmt: skip
def test_any_page_size_from_1_to_100(text: str, size: int, noted: bool) -> None:
    query, notes = parse_query(QueryParams({"per_page": text}))
    assert query.per_page == size
    assert notes == ([f"per_page must be a whole number from 1 to 100, not {text!r}."] if noted else [])
