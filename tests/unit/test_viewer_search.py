"""Search inside sessions: the text of a recording (ANSI stripped, input vs output, asciicast
v1/v2/v3), the FTS5 query built from what a user types, and the index over a real folder and
S3 (moto): size cap, not-text marks, incremental refresh, changes and deletions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from lab.viewer.castext import IDLE_LIMIT, NotACast, extract
from lab.viewer.index import RecordingIndex
from lab.viewer.s3 import S3Storage
from lab.viewer.search import SearchError, SearchIndex, fts_query
from lab.viewer.storage import LocalStorage, Storage

NAME = "ssh~20260301T101500.0001~ops~core~bastion-01~{user}~-1-{n:04d}.cast"


def cast(*events: list[object], version: int = 2) -> bytes:
    header = {"version": version, "width": 80, "height": 24}
    if version == 3:
        header = {"version": 3, "term": {"cols": 80, "rows": 24}}
    return ("\n".join([json.dumps(header)] + [json.dumps(e) for e in events]) + "\n").encode()


def texts(data: bytes, kind: str | None = None) -> list[str]:
    return [line.text for line in extract(data).lines if kind is None or line.kind == kind]


# -- the text of a recording -------------------------------------------------------------------


def test_ansi_colours_titles_and_cursor_moves_are_stripped() -> None:
    data = cast(
        [0.1, "o", "\x1b]0;root@web-01: ~\x07\x1b[1;32mroot@web-01\x1b[0m:\x1b[1;34m~\x1b[0m# "],
        [0.5, "o", "sudo su -\r\n"],
        [0.9, "o", "\x1b[01;34mdir\x1b[0m  \x1b[38;5;208mfile.txt\x1b[0m\r\n"],
        [1.0, "o", "\x1b[?1049h\x1b[H\x1b[2Jtop - 10:00:01 up 3 days\x1b[2;1HTasks: 97 total\r\n"],
    )
    assert texts(data) == ["root@web-01:~# sudo su -", "dir  file.txt", "top - 10:00:01 up 3 days", "Tasks: 97 total"]


def test_carriage_returns_backspaces_and_line_erases_apply_like_a_terminal() -> None:
    data = cast(
        [0.1, "o", "progress 10%\rprogress 99%\r\n"],
        [0.2, "o", "$ sudo sy"],
        [0.3, "o", "\b \b"],
        [0.4, "o", "u\r\n"],
        [0.5, "o", "$ wrong\r\x1b[K$ right\r\n"],
    )
    assert texts(data) == ["progress 99%", "$ sudo su", "$ right"]


def test_typed_and_shown_text_are_told_apart() -> None:
    data = cast(
        [0.1, "o", "$ "],
        [0.2, "i", "s"],
        [0.3, "i", "udx\x7fo"],
        [0.4, "i", " su\r"],
        [0.5, "o", "sudo su\r\n"],
        [0.6, "i", "\x1b[Aexit\r"],
    )
    assert texts(data, "i") == ["sudo su", "exit"]
    assert texts(data, "o") == ["$ sudo su"]
    typed = [line for line in extract(data).lines if line.kind == "i"]
    assert typed[0].t == 0.2  # the line starts at its first key


def test_times_are_kept_as_recorded_and_on_the_players_idle_cut_clock() -> None:
    data = cast([1.0, "o", "one\r\n"], [61.0, "o", "two\r\n"], [62.5, "o", "three\r\n"])
    lines = extract(data).lines
    assert [(ln.t, ln.tc) for ln in lines] == [(1.0, 1.0), (61.0, 1.0 + IDLE_LIMIT), (62.5, 2.5 + IDLE_LIMIT)]


def test_asciicast_v1_whole_and_cut_short() -> None:
    doc = {
        "version": 1,
        "width": 80,
        "height": 24,
        "stdout": [[0.5, "\x1b[31mhello\x1b[0m\r\n"], [1.0, "$ sudo su\r\n"]],
    }
    data = json.dumps(doc).encode()
    text = extract(data)
    assert text.version == 1
    assert [(ln.t, ln.text) for ln in text.lines] == [(0.5, "hello"), (1.5, "$ sudo su")]
    cut = data[: data.index(b"$ sudo")]  # the size limit cut the second frame
    assert texts(cut) == ["hello"]


def test_asciicast_v2_with_a_bom_and_a_cut_last_line() -> None:
    data = b"\xef\xbb\xbf" + cast([0.1, "o", "first\r\n"], [0.2, "o", "second line\r\n"])
    assert texts(data) == ["first", "second line"]
    assert texts(data[:-8]) == ["first"]


def test_asciicast_v3_intervals_add_up() -> None:
    data = cast([0.5, "o", "a\r\n"], [0.5, "o", "b\r\n"], [1.0, "i", "c\r"], version=3)
    assert [(ln.t, ln.kind, ln.text) for ln in extract(data).lines] == [
        (0.5, "o", "a"),
        (1.0, "o", "b"),
        (2.0, "i", "c"),
    ]


@pytest.mark.parametrize(
    "data", [b"", b"\x00\x01\x02binary", b"just some text\n", b'{"version": 9}\n', b"\x1a\x45\xdf\xa3matroska"]
)
def test_what_is_not_a_cast_says_so(data: bytes) -> None:
    with pytest.raises(NotACast):
        extract(data)


# -- the query -------------------------------------------------------------------------------


def test_queries_are_phrases_and_never_fts5_syntax() -> None:
    assert fts_query("sudo su") == '"sudo su"'
    assert fts_query('"sudo su" passwd') == '"sudo su" AND "passwd"'
    assert fts_query("journal*") == '"journal" *'
    assert fts_query("su", "typed") == 'typed : ("su")'
    assert fts_query("su", "shown") == 'shown : ("su")'
    assert fts_query('a OR b NEAR(c) shown:x "') == '"a" AND "OR" AND "b" AND "NEAR(c)" AND "shown:x"'
    for text in ("", "   ", "/ -- *", '""'):
        with pytest.raises(SearchError):
            fts_query(text)


# -- the index ------------------------------------------------------------------------------


SUDO = cast(
    [0.2, "o", "\x1b[32malice@web-01\x1b[0m:~$ "],
    [0.4, "i", "sudo su\r"],
    [0.5, "o", "sudo su\r\n"],
    [70.0, "o", "root@web-01:~# cat /etc/shadow\r\n"],
)
OTHER = cast([0.3, "o", "$ uptime\r\n"], [0.6, "o", " 10:00:01 up 3 days, load average: 0.1\r\n"])


class Lab:
    """A storage, its recording index and a search index over them, refreshed on demand."""

    def __init__(self, storage: Storage, db: Path, max_bytes: int = 1 << 20) -> None:
        self.storage = storage
        self.index = RecordingIndex(storage)
        self.search = SearchIndex(db, self.index, storage, max_bytes=max_bytes)
        self.reads = 0
        read = storage.read_head

        def counting(key: str, size: int = 65536) -> bytes:
            self.reads += 1
            return read(key, size)

        storage.read_head = counting  # type: ignore[method-assign]

    def refresh(self) -> None:
        self.index.refresh_now()
        self.search.refresh_now()

    def ids(self, text: str, where: str = "all") -> list[str]:
        return [s.recording.id for s in self.search.search(text, where).sessions]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    storage = LocalStorage(tmp_path / "rec")
    storage.create()
    storage.put_bytes(NAME.format(user="alice", n=1), SUDO)
    storage.put_bytes(NAME.format(user="bob", n=2), OTHER)
    return Lab(storage, tmp_path / "data" / "search.sqlite3")


def test_which_sessions_ran_sudo_su(lab: Lab) -> None:
    lab.refresh()
    result = lab.search.search("sudo su")
    assert [s.recording.user for s in result.sessions] == ["alice"]
    hits = result.sessions[0].hits
    assert [(h.t, h.kind) for h in hits] == [(0.2, "shown"), (0.4, "typed")]  # a line starts with its prompt
    assert ("sudo su", True) in hits[0].parts
    assert lab.ids("sudo su", "shown") == lab.ids("sudo su", "typed") == [NAME.format(user="alice", n=1)]
    assert lab.ids("uptime", "typed") == []
    assert lab.ids("shadow")[0].endswith("0001.cast")
    assert lab.search.search("shadow").sessions[0].hits[0].tc == pytest.approx(0.5 + IDLE_LIMIT)


def test_refresh_is_incremental_and_follows_changes_and_deletions(lab: Lab) -> None:
    lab.refresh()
    assert lab.reads == 2
    lab.refresh()
    assert lab.reads == 2  # nothing new: nothing read
    lab.storage.put_bytes(NAME.format(user="carol", n=3), SUDO)
    lab.storage.put_bytes(NAME.format(user="bob", n=2), OTHER + b'[1.0, "o", "sudo su\\r\\n"]\n')
    lab.refresh()
    assert lab.reads == 4  # the new one and the one that changed
    assert sorted(s.recording.user for s in lab.search.search("sudo su").sessions) == ["alice", "bob", "carol"]
    Path(lab.storage.local_path(NAME.format(user="alice", n=1)) or "").unlink()  # type: ignore[arg-type]
    lab.refresh()
    assert sorted(s.recording.user for s in lab.search.search("sudo su").sessions) == ["bob", "carol"]
    assert lab.search.status.counts == {"ok": 2}


def test_a_failed_listing_deletes_nothing(lab: Lab) -> None:
    lab.refresh()
    root = lab.storage.root  # type: ignore[attr-defined]
    root.rename(root.with_name("moved"))
    lab.refresh()
    assert lab.index.snapshot.error
    assert lab.ids("sudo su") == [NAME.format(user="alice", n=1)]


def test_large_recordings_are_indexed_up_to_the_limit_and_marked(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "rec")
    storage.create()
    filler = [[1.0 + i / 1000, "o", f"line {i} " + "x" * 100 + "\r\n"] for i in range(400)]
    storage.put_bytes(
        NAME.format(user="big", n=1), cast([0.5, "o", "early marker\r\n"], *filler, [9.0, "o", "late marker\r\n"])
    )
    storage.put_bytes(NAME.format(user="junk", n=2), b"\x00\x01 not a recording")
    lab = Lab(storage, tmp_path / "search.sqlite3", max_bytes=16 * 1024)
    lab.refresh()
    assert lab.ids("early marker") == [NAME.format(user="big", n=1)]
    assert lab.ids("late marker") == []
    session = lab.search.search("early marker").sessions[0]
    assert session.status == "truncated" and "first 16 KiB" in session.note
    assert lab.search.status.counts == {"truncated": 1, "not-text": 1}
    marked = dict((rid, status) for rid, status, _ in lab.search.marked())
    assert marked == {NAME.format(user="big", n=1): "truncated", NAME.format(user="junk", n=2): "not-text"}


def test_hits_are_counted_and_paged_newest_first(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "rec")
    storage.create()
    for n in range(25):
        name = f"ssh~202603{n + 1:02d}T101500.0001~ops~core~bastion-01~user~-1-{n:04d}.cast"
        storage.put_bytes(name, cast(*[[i + 0.5, "o", f"$ sudo su # {i}\r\n"] for i in range(n % 7 + 1)]))
    lab = Lab(storage, tmp_path / "search.sqlite3")
    lab.refresh()
    first = lab.search.search("sudo su")
    assert (first.total_sessions, first.pages, len(first.sessions)) == (25, 2, 20)
    assert first.total_hits == sum(n % 7 + 1 for n in range(25))
    assert first.sessions[0].recording.id.startswith("ssh~20260325")
    assert all(len(s.hits) == min(s.count, 5) for s in first.sessions)
    assert len(lab.search.search("sudo su", page=2).sessions) == 5
    assert lab.search.search("sudo su", allowed=[first.sessions[3].recording.id]).total_sessions == 1


def test_an_index_from_another_schema_is_rebuilt(lab: Lab, tmp_path: Path) -> None:
    lab.refresh()
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "search.sqlite3")
    db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    db.commit()
    db.close()
    lab.refresh()
    assert lab.reads == 4
    assert lab.ids("sudo su") == [NAME.format(user="alice", n=1)]


@pytest.fixture
def bucket() -> Iterator[S3Storage]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="rec")
        yield S3Storage("rec", prefix="gw/prod", access_key_id="testing", secret_access_key="testing")


def test_s3_recordings_are_searchable_with_a_prefix(bucket: S3Storage, tmp_path: Path) -> None:
    bucket.put_bytes(NAME.format(user="alice", n=1), SUDO)
    bucket.put_bytes(NAME.format(user="bob", n=2), OTHER)
    lab = Lab(bucket, tmp_path / "search.sqlite3", max_bytes=64)
    lab.refresh()
    assert lab.search.status.counts == {"truncated": 2}  # 64 bytes: the header and a little more
    lab = Lab(bucket, tmp_path / "full.sqlite3")
    lab.refresh()
    assert lab.ids("sudo su") == [NAME.format(user="alice", n=1)]
    bucket.client.delete_object(Bucket="rec", Key="gw/prod/" + NAME.format(user="alice", n=1))
    lab.refresh()
    assert lab.ids("sudo su") == []


def test_csi_lines_read_the_same_with_or_without_pytes_parser() -> None:
    """The fast path for CSI-only lines makes the calls pyte's parser would make."""
    from lab.viewer.castext import _Channel

    segments = [
        "\x1b[?1049h\x1b[H\x1b[2Jtop - 10:00\x1b[K\x1b[2;1HTasks: 97\x1b[K",
        "$ sudo sy\x08\x1b[Ku su\r",
        "abc\x1b[2Dxy\x1b[1Pz\x1b[3@\x1b[5Gq",
        "one\x1b[10Ctwo\x1b[Athree\x1b[0K",
        "\x1b[31;1mred\x1b[0m and \x1b[38;2;1;2;3mrgb\x1b[m\tend",
    ]
    for segment in segments:
        fast, slow = _Channel("o"), _Channel("o")
        fast._lines.clear()
        fast._dispatch(segment)
        fast.model.flush()
        slow._lines.clear()
        slow.stream.feed(segment)
        slow.model.flush()
        assert fast._lines == slow._lines, segment


def test_other_escape_sequences_go_through_pyte() -> None:
    data = cast([0.1, "o", "\x1b(B\x1b7saved\x1b8 \x1bMabove\x1b[1;1H\x1bP+q\x1b\\done\r\n"])
    assert texts(data) == ["saved", "above", "done"]


def test_a_large_first_build_uses_worker_processes(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "rec")
    storage.create()
    for n in range(140):
        storage.put_bytes(NAME.format(user=f"u{n}", n=n), cast([0.5, "o", f"$ echo number-{n}\r\n"]))
    storage.put_bytes(NAME.format(user="junk", n=999), b"\x00 binary")
    lab = Lab(storage, tmp_path / "search.sqlite3")
    lab.search.workers = 2
    lab.refresh()
    assert lab.search.status.counts == {"ok": 140, "not-text": 1}
    assert lab.ids("number 77") == [NAME.format(user="u77", n=77)]


def test_a_deleted_index_file_is_built_again(lab: Lab, tmp_path: Path) -> None:
    lab.refresh()
    assert lab.ids("sudo su")
    for leftover in (tmp_path / "data").glob("search.sqlite3*"):
        leftover.unlink()
    assert lab.ids("sudo su") == []  # readers notice at once
    lab.refresh()
    assert lab.ids("sudo su") == [NAME.format(user="alice", n=1)]
    assert lab.reads == 4
