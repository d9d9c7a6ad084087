"""The S3 listing's timestamps go through a fast ISO 8601 parse, with the same values as
botocore's generic parser, and recordings keep their exact sub-second order."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.utils import parse_timestamp
from moto import mock_aws

from lab.viewer.index import RecordingIndex
from lab.viewer.s3 import S3Storage, fast_timestamp


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-13T11:20:35.000Z",
        "2026-03-13T11:20:35.123Z",
        "2026-03-13T11:20:35Z",
        "2026-03-13T11:20:35.123456+00:00",
        "2026-03-13T13:20:35.5+02:00",
        "Fri, 13 Mar 2026 11:20:35 GMT",  # Last-Modified of HEAD answers
        "1773400835",
    ],
)
def test_fast_timestamp_agrees_with_botocore(text: str) -> None:
    ours = fast_timestamp(text)
    assert ours.tzinfo is not None
    assert ours == parse_timestamp(text)
    assert ours.timestamp() == parse_timestamp(text).timestamp()


def test_naive_iso_is_utc() -> None:
    assert fast_timestamp("2026-03-13T11:20:35") == datetime(2026, 3, 13, 11, 20, 35, tzinfo=UTC)


def test_s3_index_keeps_sub_second_order_and_times() -> None:
    names = [
        "ssh~20260313T112035.8319~t~p~s~u~a.cast",
        "ssh~20260313T112035.832~t~p~s~u~b.cast",
        "ssh~20260313T112035.83~t~p~s~u~c.cast",
        "rdp~20260313T112035.8318~t~p~s~u~d.asa-1.mkv",
        "ssh~20260313T112036~t~p~s~u~e.cast",
    ]
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="order")
        store = S3Storage("order", access_key_id="testing", secret_access_key="testing")
        for name in names:
            store.put_bytes(name, b"{}")
        listed = {o.key: o.mtime for o in store.list()}
        head = store.stat(names[0])
        index = RecordingIndex(store)
        index.refresh_now()
    assert abs(head.mtime - listed[names[0]]) < 1.0  # RFC 1123 header vs ISO listing, same object
    order = [r.id for r in index.snapshot.recordings]
    assert order == [names[4], names[1], names[0], names[3], names[2]]
    assert index.snapshot.recordings[1].started.microsecond == 832000
