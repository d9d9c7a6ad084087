"""Sample sessions and `sync` (with a fake `sft` that behaves like the OPA client)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from lab.viewer.asciicast import InvalidCast, inspect
from lab.viewer.names import parse
from lab.viewer.seed import sample_sessions, seed
from lab.viewer.storage import LocalStorage
from lab.viewer.sync import Syncer, SyncError, SyncOptions

FAKE_SFT = """#!/bin/sh
# fake `sft session-logs export --insecure --format F --output OUT SRC`
echo "$@" >> "$(dirname "$0")/calls.log"
fmt=$5; out=$7; src=$8
case "$src" in *fail*) echo "corrupt recording" >&2; exit 3;; esac
if [ "$fmt" = asciinema ]; then
  printf '{"version": 2, "width": 80, "height": 24}\\n[0.1, "o", "hi"]\\n' > "$out"
else
  stem=$(basename "$src")
  printf 'mkv1' > "$out/$stem-1.mkv"; printf 'mkv2' > "$out/$stem-2.mkv"
fi
"""


def test_seed_writes_valid_varied_asciicast(tmp_path: Path) -> None:
    sessions = sample_sessions(30)
    recs = [parse(k) for k, _ in sessions]
    assert all(r.parsed and r.protocol == "ssh" for r in recs)
    assert len({r.team for r in recs}) >= 3 and len({r.user for r in recs}) >= 4
    for _, data in sessions:
        info = inspect(data[:65536])
        assert info.version == 2 and info.duration and info.duration > 1
        events = [json.loads(line) for line in data.decode().splitlines()[1:]]
        assert all(b[0] >= a[0] for a, b in zip(events, events[1:], strict=False))  # time ascends


def test_seed_is_idempotent(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    first = seed(storage, 5)
    again = seed(storage, 5)
    assert len(first.written) == 5 and again.written == [] and again.skipped == 5
    assert len(list(storage.list())) == 5


@pytest.mark.parametrize(
    "data",
    [b"", b"not json\n", b'{"version": 9, "width": 80, "height": 24}\n',
     b'{"version": 2}\n', b'{"version": 2, "width": 80, "height": 24}\n{"not": "event"}\n[1]'],
)  # fmt: skip
def test_invalid_asciicast_is_detected(data: bytes) -> None:
    with pytest.raises(InvalidCast):
        inspect(data)


@pytest.fixture()
def sft(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "sft"
    path.parent.mkdir()
    path.write_text(FAKE_SFT)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def asa(folder: Path, name: str, age_days: float = 0) -> Path:
    folder.mkdir(exist_ok=True)
    p = folder / name
    p.write_bytes(b"ASA")
    t = time.time() - age_days * 86400 - 60
    os.utime(p, (t, t))
    return p


def store_at(tmp_path: Path) -> LocalStorage:
    (tmp_path / "store").mkdir(exist_ok=True)
    return LocalStorage(tmp_path / "store")


SSH_ASA = "ssh~20260101T000000.1~t~p~s~u~x.asa"
RDP_ASA = "rdp~20260101T000000.1~t~p~w~u~y.asa"


def test_sync_converts_uploads_and_skips_duplicates(tmp_path: Path, sft: Path) -> None:
    src, store = tmp_path / "src", store_at(tmp_path)
    asa(src, SSH_ASA)
    asa(src, RDP_ASA)
    asa(src, "ssh~20260101T000000.1~t~p~s~u~fail.asa")
    syncer = Syncer(store, SyncOptions(source=src, settle_seconds=1), sft=str(sft))
    report = syncer.run_once()
    assert sorted(report.uploaded) == sorted([
        "ssh~20260101T000000.1~t~p~s~u~x.cast",
        "rdp~20260101T000000.1~t~p~w~u~y.asa-1.mkv",
        "rdp~20260101T000000.1~t~p~w~u~y.asa-2.mkv",
    ])  # fmt: skip
    assert report.failed == ["ssh~20260101T000000.1~t~p~s~u~fail.asa"]
    inspect(store.read_head("ssh~20260101T000000.1~t~p~s~u~x.cast"))
    again = Syncer(store, SyncOptions(source=src, settle_seconds=1), sft=str(sft)).run_once()
    assert again.uploaded == [] and again.skipped == 2


def test_sync_deletes_only_old_uploaded_sources(tmp_path: Path, sft: Path) -> None:
    src, store = tmp_path / "src", store_at(tmp_path)
    old = asa(src, SSH_ASA, age_days=10)
    young = asa(src, RDP_ASA, age_days=1)
    failing = asa(src, "ssh~20260101T000000.1~t~p~s~u~fail.asa", age_days=10)
    report = Syncer(store, SyncOptions(source=src, delete_after_days=5, settle_seconds=0), sft=str(sft)).run_once()
    assert report.deleted == [old.name]
    assert not old.exists() and young.exists() and failing.exists()


def test_sync_skips_files_still_being_written(tmp_path: Path, sft: Path) -> None:
    src, store = tmp_path / "src", store_at(tmp_path)
    (src).mkdir()
    (src / SSH_ASA).write_bytes(b"ASA")  # modified just now
    report = Syncer(store, SyncOptions(source=src, settle_seconds=30), sft=str(sft)).run_once()
    assert report.uploaded == []


def test_sync_without_sft_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "src").mkdir()
    with pytest.raises(SyncError, match="`sft` is not installed"):
        Syncer(store_at(tmp_path), SyncOptions(source=tmp_path / "src"))


def test_sync_watch_stops_gracefully(tmp_path: Path, sft: Path) -> None:
    import threading

    src, store = tmp_path / "src", store_at(tmp_path)
    asa(src, SSH_ASA)
    stop = threading.Event()
    syncer = Syncer(store, SyncOptions(source=src, settle_seconds=0, interval=0.05), sft=str(sft))
    seen = []

    def on_report(r: object) -> None:
        seen.append(r)
        if len(seen) == 2:
            stop.set()

    total = syncer.watch(stop, on_report)  # type: ignore[arg-type]
    assert total.uploaded == ["ssh~20260101T000000.1~t~p~s~u~x.cast"] and len(seen) == 2
