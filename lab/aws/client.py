"""The one place `lab` talks to AWS: a boto3 session, its clients, and AWS errors as LabErrors.

Credentials come from boto3's standard chain (environment, shared profile, SSO, instance role);
the region from `AWS_REGION` in `.env` or in the environment. `AWS_ENDPOINT_URL` (boto3's own
setting) sends every call elsewhere, e.g. to a moto server in the tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from lab.errors import ConfigError, Problem, TargetError

#: Canonical's AWS account, owner of the official Ubuntu images.
CANONICAL_OWNER = "099720109477"
#: Tag key on every resource the lab creates; its value is the lab's project (LAB_PROJECT).
TAG = "okta-lab"
#: Tag key naming the lab host an instance (key pair, security group) belongs to.
HOST_TAG = "okta-lab:host"


def lab_tags(project: str, host: str = "", **extra: str) -> dict[str, str]:
    tags = {TAG: project, **extra}
    if host:
        tags[HOST_TAG] = host
    return tags


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """`{k: v}` -> `[{"Key": k, "Value": v}]` (EC2, IAM, EventBridge, Scheduler shape)."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@dataclass
class Aws:
    """A session in one region. `call(service, operation, **params)` is how every request is made."""

    region: str
    session: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def connect(cls, region: str) -> Aws:
        """Check the region and that credentials exist (one clear line each); nothing is sent yet."""
        import boto3

        region = region or os.environ.get("AWS_REGION", "") or os.environ.get("AWS_DEFAULT_REGION", "")
        if not region:
            raise ConfigError(
                Problem("AWS_REGION is not set", "set AWS_REGION in .env or the environment, e.g. eu-south-1")
            )
        try:
            session = boto3.Session(region_name=region)
            credentials = session.get_credentials()
        except Exception as exc:  # noqa: BLE001 - e.g. botocore.exceptions.ProfileNotFound
            raise ConfigError(Problem(f"AWS credentials cannot be loaded: {exc}", _CRED_HINT)) from None
        if credentials is None:
            raise ConfigError(Problem("no AWS credentials found", _CRED_HINT))
        return cls(region=region, session=session)

    def client(self, service: str) -> Any:
        """The boto3 client of `service` (one per session; tests may stub it with botocore's Stubber)."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Call `operation` (boto3 snake_case name); AWS errors become one TargetError line."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            result: dict[str, Any] = getattr(self.client(service), operation)(**params)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = err.get("Code", "Error"), err.get("Message", "")
            problem = Problem(f"AWS {service} {operation} failed: {code}: {message}".rstrip(": "), _hint(code))
            raise (ConfigError if code in _CONFIG_CODES else TargetError)(problem) from None
        except BotoCoreError as exc:
            raise TargetError(Problem(f"AWS {service} {operation} failed: {exc}", _CRED_HINT)) from None
        result.pop("ResponseMetadata", None)
        return result

    def error_code(self, service: str, operation: str, **params: Any) -> tuple[dict[str, Any], str]:
        """As `call`, but an AWS error code is returned (`({}, "NoSuchEntity")`) instead of raised."""
        from botocore.exceptions import ClientError

        try:
            result: dict[str, Any] = getattr(self.client(service), operation)(**params)
        except ClientError as exc:
            return {}, str(exc.response.get("Error", {}).get("Code", "Error"))
        result.pop("ResponseMetadata", None)
        return result, ""

    def pages(self, service: str, operation: str, key: str, **params: Any) -> list[Any]:
        """Every item under `key` across the pages of a paginated `operation`."""
        from botocore.exceptions import ClientError

        out: list[Any] = []
        try:
            for page in self.client(service).get_paginator(operation).paginate(**params):
                out.extend(page.get(key, []))
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise TargetError(
                Problem(f"AWS {service} {operation} failed: {err.get('Code')}: {err.get('Message')}")
            ) from None
        return out

    def wait(self, service: str, waiter: str, **params: Any) -> None:
        """Block until boto3's `waiter` succeeds (e.g. ec2 `instance_running`)."""
        from botocore.exceptions import WaiterError

        try:
            self.client(service).get_waiter(waiter).wait(**params)
        except WaiterError as exc:
            raise TargetError(Problem(f"AWS {service}: waiting for {waiter} failed: {exc}")) from None

    def account(self) -> str:
        return str(self.call("sts", "get_caller_identity")["Account"])


_CRED_HINT = "configure the standard AWS chain: AWS_PROFILE (aws configure / aws sso login) or AWS_ACCESS_KEY_ID"
_CONFIG_CODES = {
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "AccessDenied",
    "AccessDeniedException",
    "OptInRequired",
}


def _hint(code: str) -> str:
    if code in ("AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"):
        return "the AWS credentials are not valid; " + _CRED_HINT
    if code in ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException"):
        return "the AWS identity lacks this permission; see docs/aws.md, 'Permissions'"
    if code == "OptInRequired":
        return "enable the region in the AWS account, or pick another AWS_REGION"
    return ""
