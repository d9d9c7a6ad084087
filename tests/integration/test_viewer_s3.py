"""The viewer against a real S3-compatible server (moto in server mode on 127.0.0.1).

The same recordings must list, play (presigned URLs) and download from S3 with and without a
bucket prefix, exactly as from a folder; broken buckets and credentials must be explained.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from starlette.testclient import TestClient

from lab.settings.viewer import ViewerSettings
from lab.viewer.app import create_app
from lab.viewer.s3 import S3Storage
from lab.viewer.seed import sample_sessions, seed
from lab.viewer.storage import LocalStorage, StorageError

PASSWORD = "correct-horse-battery"
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def buckets(endpoint: str) -> str:
    """`rec` holds 8 sample sessions at the root and the same 8 under `gw/prod/`; `empty` none."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket="rec")
    s3.create_bucket(Bucket="empty")
    for key, data in sample_sessions(8):
        s3.put_object(Bucket="rec", Key=key, Body=data)
        s3.put_object(Bucket="rec", Key=f"gw/prod/{key}", Body=data)
    s3.put_object(Bucket="rec", Key="gw/prod/notes.txt", Body=b"not a recording")
    return "rec"


def storage(endpoint: str, bucket: str = "rec", prefix: str = "", **kw: str) -> S3Storage:
    return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint, access_key_id=kw.get("key", "testing"),
                     secret_access_key=kw.get("secret", "testing"), presign_seconds=120)  # fmt: skip


def settings() -> ViewerSettings:
    return ViewerSettings.model_validate({"VIEWER_ADMIN_PASSWORD": PASSWORD, "VIEWER_SESSION_SECRET": "s" * 48})


def client_for(store: S3Storage | LocalStorage) -> TestClient:
    c = TestClient(create_app(settings(), store, background_index=False))
    page = c.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    r = c.post("/login", data={"csrf": token.group(1), "username": "admin", "password": PASSWORD},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    return c


@pytest.mark.parametrize("prefix", ["", "gw/prod"])
def test_lists_recordings_relative_to_prefix(endpoint: str, buckets: str, prefix: str) -> None:
    keys = sorted(o.key for o in storage(endpoint, buckets, prefix).list())
    expected = sorted(k for k, _ in sample_sessions(8))
    if prefix:
        assert keys == expected  # notes.txt is not a recording
    else:
        assert [k for k in keys if "/" not in k] == expected
        assert len([k for k in keys if k.startswith("gw/prod/")]) == 8


def test_same_recordings_as_a_folder(endpoint: str, buckets: str, tmp_path: Path) -> None:
    folder = LocalStorage(tmp_path)
    seed(folder, 8)
    local = {(o.key, o.size) for o in folder.list()}
    remote = {(o.key, o.size) for o in storage(endpoint, buckets, "gw/prod").list()}
    assert local == remote


@pytest.mark.parametrize("prefix", ["", "gw/prod"])
def test_playback_through_short_lived_presigned_url(endpoint: str, buckets: str, prefix: str) -> None:
    key, data = sample_sessions(8)[3]
    with client_for(storage(endpoint, buckets, prefix)) as c:
        html = c.get(f"/play?id={quote(key)}").text
        m = re.search(r'data-src="([^"]+)"', html)
        assert m, html[:500]
        url = m.group(1).replace("&amp;", "&")
        assert url.startswith(endpoint)
        query = parse_qs(urlparse(url).query)
        assert query["X-Amz-Expires"] == ["120"]
        assert urlparse(url).path.endswith(quote(f"{prefix}/{key}" if prefix else key, safe="/~"))
        assert httpx.get(url).content == data  # the browser fetches this URL directly
        csp = c.get("/").headers["content-security-policy"]
        assert f"connect-src 'self' {endpoint}" in csp and f"media-src 'self' {endpoint}" in csp


def test_download_redirects_to_attachment_url(endpoint: str, buckets: str) -> None:
    key, data = sample_sessions(8)[0]
    with client_for(storage(endpoint, buckets, "gw/prod")) as c:
        r = c.get(f"/download?id={quote(key)}", follow_redirects=False)
        assert r.status_code == 302
        got = httpx.get(r.headers["location"])
        assert got.content == data and got.headers["content-disposition"].startswith("attachment")


def test_index_and_dashboard_from_s3(endpoint: str, buckets: str) -> None:
    with client_for(storage(endpoint, buckets, "gw/prod")) as c:
        assert 'id="total-recordings">8<' in c.get("/").text
        assert c.get("/health").json()["recordings"] == 8


def test_traversal_out_of_prefix_is_refused(endpoint: str, buckets: str) -> None:
    key = sample_sessions(8)[0][0]
    with client_for(storage(endpoint, buckets, "gw/prod")) as c:
        for rid in (f"../../{key}", f"..%2F..%2F{key}", f"/{key}"):
            assert c.get(f"/media?id={rid}", follow_redirects=False).status_code in (400, 404)


def test_empty_bucket_is_healthy_and_empty(endpoint: str, buckets: str) -> None:
    with client_for(storage(endpoint, "empty")) as c:
        assert c.get("/health").status_code == 200
        assert "0 recordings" in c.get("/sessions").text


def test_missing_bucket_is_explained(endpoint: str, buckets: str) -> None:
    with client_for(storage(endpoint, "no-such-bucket")) as c:
        r = c.get("/health")
        assert r.status_code == 503 and "'no-such-bucket' does not exist" in r.json()["reason"]
        assert "Storage is unreachable" in c.get("/sessions").text


def test_unreachable_endpoint_is_explained() -> None:
    store = storage(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="unreachable"):
        store.check()


def test_seed_and_missing_objects_on_s3(endpoint: str, buckets: str) -> None:
    store = storage(endpoint, "empty", "seeded")
    assert len(seed(store, 3).written) == 3 and seed(store, 3).skipped == 3
    assert not store.exists("ssh~nope.cast")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS).delete_objects(
        Bucket="empty",
        Delete={"Objects": [{"Key": f"seeded/{o.key}"} for o in store.list()]},
    )


@pytest.fixture(scope="module")
def strict_endpoint() -> Iterator[str]:
    """A moto server that checks credentials (IAM auth on from the first request)."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def test_wrong_credentials_are_explained(strict_endpoint: str) -> None:
    store = storage(strict_endpoint, "rec", key="AKIAWRONGWRONGWRONG1", secret="wrong-secret")
    with client_for(store) as c:
        r = c.get("/health")
        assert r.status_code == 503
        assert "S3 rejected the credentials for bucket 'rec'" in r.json()["reason"]
        assert "wrong-secret" not in r.text
        assert "Storage is unreachable" in c.get("/").text


def test_sync_uploads_to_s3_under_prefix_once(endpoint: str, buckets: str, tmp_path: Path) -> None:
    """`sync` with a fake `sft`: converted files land under the prefix and are not re-uploaded."""
    from lab.viewer.sync import Syncer, SyncOptions

    sft = tmp_path / "sft"
    sft.write_text(
        '#!/bin/sh\nout=$7; printf \'{"version": 2, "width": 80, "height": 24}\\n[0.1, "o", "x"]\\n\' > "$out"\n'
    )
    sft.chmod(0o755)
    src = tmp_path / "asa"
    src.mkdir()
    asa = src / "ssh~20260101T000000.1~t~p~s~u~sync.asa"
    asa.write_bytes(b"ASA")
    store = storage(endpoint, "empty", "synced")
    options = SyncOptions(source=src, settle_seconds=0)
    first = Syncer(store, options, sft=str(sft)).run_once()
    assert first.uploaded == ["ssh~20260101T000000.1~t~p~s~u~sync.cast"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    assert s3.head_object(Bucket="empty", Key="synced/ssh~20260101T000000.1~t~p~s~u~sync.cast")
    again = Syncer(store, options, sft=str(sft)).run_once()
    assert again.uploaded == [] and again.skipped == 1
    s3.delete_object(Bucket="empty", Key="synced/ssh~20260101T000000.1~t~p~s~u~sync.cast")


def test_presigned_video_link_outlives_a_two_hour_recording(endpoint: str) -> None:
    """The link the <video> plays from lives longer than the video (not the short default)."""
    from tests.unit.test_viewer_edges import mkv

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket="long")
    key = "rdp~20260101T080000.0~ops~win~win-01~han~long.asa-1.mkv"
    s3.put_object(Bucket="long", Key=key, Body=mkv(7200.0))
    s3.put_object(Bucket="long", Key="ssh~20260101T080000.0~ops~lin~l-01~han~x.cast", Body=sample_sessions(1)[0][1])
    with client_for(storage(endpoint, "long")) as c:
        html = c.get(f"/play?id={quote(key)}").text
        url = re.search(r'<video id="video"[^>]* src="([^"]+)"', html)
        assert url, html[:800]
        expires = int(parse_qs(urlparse(url.group(1).replace("&amp;", "&")).query)["X-Amz-Expires"][0])
        assert expires >= 2 * 7200
        again = c.get(f"/media?id={quote(key)}", follow_redirects=False)  # the fresh link the page falls back to
        assert int(parse_qs(urlparse(again.headers["location"]).query)["X-Amz-Expires"][0]) >= 2 * 7200
        assert httpx.get(again.headers["location"]).content == mkv(7200.0)
        cast = c.get("/media?id=ssh~20260101T080000.0~ops~lin~l-01~han~x.cast", follow_redirects=False)
        assert parse_qs(urlparse(cast.headers["location"]).query)["X-Amz-Expires"] == ["120"]  # fetched at once


def test_unicode_keys_play_and_download_from_s3(endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **KEYS)
    s3.create_bucket(Bucket="uni")
    key = "équipe/ssh~20260101T080000.0~t~p~s~zoë.o'brien~#1 🚀.cast"
    data = sample_sessions(1)[0][1]
    s3.put_object(Bucket="uni", Key=key, Body=data)
    with client_for(storage(endpoint, "uni")) as c:
        listed = re.findall(r'<a class="play" href="/play\?id=([^"]+)"', c.get("/sessions").text)
        assert [urllib_unquote(x) for x in listed] == [key]
        assert c.get(f"/play?id={quote(key, safe='')}").status_code == 200
        r = c.get(f"/download?id={quote(key, safe='')}", follow_redirects=False)
        got = httpx.get(r.headers["location"])
        assert got.content == data and "filename*=UTF-8''" in got.headers["content-disposition"]


def urllib_unquote(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)
