"""Sync as a service: inotify-driven pick-up, upload of the original, deletion only after a
confirmed upload (or by age), and a summary every N files (fake `sft`, a real folder storage)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from lab.viewer.storage import LocalStorage, StoredObject
from lab.viewer.sync import Syncer, SyncOptions, SyncReport
from lab.viewer.watch import watch
from tests.unit.test_viewer_seed_sync import RDP_ASA, SSH_ASA, asa, sft, store_at  # noqa: F401

CAST = SSH_ASA.removesuffix(".asa") + ".cast"


def test_uploads_the_original_and_deletes_after_confirmed_upload(tmp_path: Path, sft: Path) -> None:  # noqa: F811
    src, store = tmp_path / "src", store_at(tmp_path)
    ssh = asa(src, SSH_ASA)
    failing = asa(src, "ssh~20260101T000000.1~t~p~s~u~fail.asa")
    options = SyncOptions(source=src, settle_seconds=0, upload_source=True, delete_after_upload=True)
    report = Syncer(store, options, sft=str(sft)).run_once()
    assert report.uploaded == [CAST, f"sources/{SSH_ASA}"]
    assert (tmp_path / "store" / "sources" / SSH_ASA).read_bytes() == b"ASA"
    assert report.deleted == [SSH_ASA] and not ssh.exists()
    assert failing.exists() and report.failed == [failing.name]  # not uploaded: kept
    assert CAST in {o.key for o in store.list()} and all(o.key.endswith(".cast") for o in store.list())


class ShortStore(LocalStorage):
    """Claims to store everything, but reads back one byte short: the upload is not confirmed."""

    def stat(self, key: str) -> StoredObject:
        real = super().stat(key)
        return StoredObject(real.key, real.size - 1, real.mtime)


def test_unconfirmed_upload_keeps_the_source(tmp_path: Path, sft: Path) -> None:  # noqa: F811
    src = tmp_path / "src"
    (tmp_path / "store").mkdir()
    kept = asa(src, SSH_ASA)
    options = SyncOptions(source=src, settle_seconds=0, delete_after_upload=True)
    report = Syncer(ShortStore(tmp_path / "store"), options, sft=str(sft)).run_once()
    assert report.failed == [SSH_ASA] and report.deleted == [] and kept.exists()


def test_summary_every_n_files(tmp_path: Path, sft: Path) -> None:  # noqa: F811
    src, store = tmp_path / "src", store_at(tmp_path)
    for i in range(5):
        asa(src, f"ssh~20260101T00000{i}.1~t~p~s~u~x{i}.asa")
    lines: list[str] = []
    syncer = Syncer(
        store, SyncOptions(source=src, settle_seconds=0, summary_every=2), sft=str(sft), on_summary=lines.append
    )
    syncer.run_once()
    assert lines == [
        "sync summary after 2 files: 2 objects uploaded, 0 already stored, 0 failed, 0 sources deleted",
        "sync summary after 4 files: 4 objects uploaded, 0 already stored, 0 failed, 0 sources deleted",
    ]


def test_inotify_picks_up_new_files_without_rescanning(tmp_path: Path, sft: Path) -> None:  # noqa: F811
    src, store = tmp_path / "src", store_at(tmp_path)
    (src / "2026" / "01").mkdir(parents=True)
    stop = threading.Event()
    batches: list[SyncReport] = []
    # a full rescan only every hour: what arrives later must come through inotify
    syncer = Syncer(store, SyncOptions(source=src, settle_seconds=0.3, interval=3600, delete_after_upload=True),
                    sft=str(sft))  # fmt: skip
    thread = threading.Thread(target=lambda: batches.append(watch(syncer, stop, None, tick=0.05)))
    thread.start()
    try:
        time.sleep(0.5)
        partial = src / "2026" / "01" / ".incoming"
        partial.write_bytes(b"AS")  # written elsewhere, then moved in (like rsync)
        partial.rename(src / "2026" / "01" / RDP_ASA)
        with (src / SSH_ASA).open("wb") as fh:  # written in place, closed
            fh.write(b"ASA")
        deadline = time.monotonic() + 15
        while len({o.key for o in store.list()}) < 3:
            assert time.monotonic() < deadline, f"not picked up: {[o.key for o in store.list()]}"
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    total = batches[0]
    assert sorted(total.uploaded) == sorted([CAST, RDP_ASA + "-1.mkv", RDP_ASA + "-2.mkv"])
    assert sorted(total.deleted) == sorted([SSH_ASA, RDP_ASA]) and not list(src.rglob("*.asa"))
