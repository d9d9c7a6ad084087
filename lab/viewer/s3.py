"""S3 and S3-compatible storage (AWS, MinIO, moto, ...) through boto3.

Keys under an optional prefix behave exactly like keys at the bucket root: the viewer only ever
sees keys relative to the prefix. Playback uses presigned GET URLs with a short lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from botocore.utils import parse_timestamp
from iam_rolesanywhere_session import IAMRolesAnywhereError

from lab.viewer.names import content_disposition, valid_id
from lab.viewer.storage import NotFound, StorageError, StoredObject, valid_source_key

#: What a storage call can raise: S3's answers, transport errors, a refused Roles Anywhere session.
_FAILURES = (ClientError, BotoCoreError, IAMRolesAnywhereError)

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "InvalidToken",
    "ExpiredToken",
    "AuthFailure",
}


def fast_timestamp(value: str | int | float) -> datetime:
    """An S3 timestamp -> an aware datetime, exact to the microsecond.

    Listings carry ISO 8601 (`2026-03-13T11:20:35.123Z`), which `datetime.fromisoformat` parses
    in C; anything else (RFC 1123 `Last-Modified` headers, epoch seconds) goes to botocore's
    generic parser. Replaces botocore's default, which spends most of an index build in dateutil.
    """
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    result: datetime = parse_timestamp(value)
    return result


def _botocore_session() -> botocore.session.Session:
    """A botocore session whose response parsers use `fast_timestamp`."""
    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    return session


class S3Storage:
    """A bucket, optionally under a prefix, at AWS or any S3-compatible endpoint."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str = "us-east-1",
        endpoint_url: str = "",
        access_key_id: str = "",
        secret_access_key: str = "",
        presign_seconds: int = 300,
        credentials: Credentials | None = None,
        ca_bundle: str = "",
    ) -> None:
        """`credentials` (e.g. IAM Roles Anywhere, refreshable) go before the default chain;
        `ca_bundle` is a PEM file of CAs to trust for the endpoint (empty: the system's)."""
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.endpoint_url = endpoint_url
        self.presign_seconds = presign_seconds
        botocore_session = _botocore_session()
        if credentials is not None:
            from lab.viewer.rolesanywhere import RolesAnywhereProvider

            resolver = botocore_session.get_component("credential_provider")
            resolver.insert_before("env", RolesAnywhereProvider(credentials))
        session_kw: dict[str, Any] = {"region_name": region or None, "botocore_session": botocore_session}
        if access_key_id:
            session_kw["aws_access_key_id"] = access_key_id
            session_kw["aws_secret_access_key"] = secret_access_key
        config = Config(
            connect_timeout=5,
            read_timeout=20,
            retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.client = boto3.session.Session(**session_kw).client(
            "s3", endpoint_url=endpoint_url or None, config=config, verify=ca_bundle or None
        )

    # -- keys -------------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        if not valid_id(key):
            raise NotFound(f"no recording {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full: str) -> str | None:
        if not self.prefix:
            return full
        head = f"{self.prefix}/"
        return full[len(head) :] if full.startswith(head) else None

    def origin(self) -> str:
        """The scheme://host[:port] browsers fetch presigned URLs from (for the CSP)."""
        url = self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "x"}, ExpiresIn=10)
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    # -- errors -----------------------------------------------------------------------------

    def _error(self, exc: Exception, what: str) -> StorageError:
        where = f"bucket {self.bucket!r}"
        if isinstance(exc, NoCredentialsError):
            return StorageError(
                f"no S3 credentials found for {where}; set VIEWER_S3_ACCESS_KEY_ID and "
                "VIEWER_S3_SECRET_ACCESS_KEY or configure the AWS credential chain"
            )
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in ("NoSuchBucket",) or (code == "404" and what == "check"):
                return StorageError(f"{where} does not exist")
            if code in ("NoSuchKey", "404") or status == 404:
                return NotFound(f"no recording ({what})")
            if code in _CREDENTIAL_CODES:
                return StorageError(f"S3 rejected the credentials for {where} ({code})")
            if code in ("AccessDenied", "403") or status == 403:
                return StorageError(f"access to {where} denied ({code or status})")
            return StorageError(f"S3 error on {where}: {code or status}")
        if isinstance(exc, IAMRolesAnywhereError):
            from lab.viewer.rolesanywhere import explain

            return StorageError(explain(exc))
        if isinstance(exc, EndpointConnectionError) and "/sessions" in str(exc.kwargs.get("endpoint_url", "")):
            return StorageError(f"IAM Roles Anywhere endpoint unreachable: {exc.kwargs.get('endpoint_url')}")
        if isinstance(exc, BotoCoreError):
            return StorageError(f"S3 endpoint unreachable for {where}: {type(exc).__name__}")
        return StorageError(f"S3 error on {where}: {type(exc).__name__}")

    # -- the Storage interface ---------------------------------------------------------------

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}"
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # HEAD answers carry no error code; a GET tells bad credentials from a denial.
            try:
                self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
            except _FAILURES as detail:
                raise self._error(detail, "check") from None
            raise self._error(exc, "check") from None
        except (BotoCoreError, IAMRolesAnywhereError) as exc:
            raise self._error(exc, "check") from None

    def list(self) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        kw: dict[str, Any] = {"Bucket": self.bucket, "PaginationConfig": {"PageSize": 1000}}
        if self.prefix:
            kw["Prefix"] = f"{self.prefix}/"
        try:
            for page in paginator.paginate(**kw):
                for obj in page.get("Contents", []):
                    key = self._relative(obj["Key"])
                    if key and valid_id(key):
                        yield StoredObject(key, int(obj["Size"]), obj["LastModified"].timestamp())
        except _FAILURES as exc:
            raise self._error(exc, "list") from None

    def stat(self, key: str) -> StoredObject:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except _FAILURES as exc:
            raise self._error(exc, key) from None
        return StoredObject(key, int(head["ContentLength"]), head["LastModified"].timestamp())

    def read_head(self, key: str, size: int = 65536) -> bytes:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._full(key), Range=f"bytes=0-{size - 1}")
            return bytes(obj["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object
            raise self._error(exc, key) from None
        except (BotoCoreError, IAMRolesAnywhereError) as exc:
            raise self._error(exc, key) from None

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def put_file(self, key: str, path: Path) -> None:
        try:
            self.client.upload_file(str(path), self.bucket, self._full(key))
        except _FAILURES as exc:
            raise self._error(exc, key) from None

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._full(key), Body=data)
        except _FAILURES as exc:
            raise self._error(exc, key) from None

    def put_source(self, key: str, path: Path) -> int:
        if not valid_source_key(key):
            raise StorageError(f"refusing source key {key!r}")
        full = f"{self.prefix}/{key}" if self.prefix else key
        try:
            self.client.upload_file(str(path), self.bucket, full)
            return int(self.client.head_object(Bucket=self.bucket, Key=full)["ContentLength"])
        except _FAILURES as exc:
            raise self._error(exc, key) from None

    def presign(self, key: str, *, download: bool = False, seconds: int | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._full(key)}
        if download:
            params["ResponseContentDisposition"] = content_disposition(key.rsplit("/", 1)[-1])
        lifetime = seconds or self.presign_seconds
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=lifetime))

    def local_path(self, key: str) -> Path | None:
        return None
