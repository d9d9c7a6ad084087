"""`lab aws`: the AWS region, the Route 53 zone of the hosts' names, instance defaults.

Credentials are never read from `.env`: boto3's standard chain (environment, profile, SSO) finds
them. `AWS_REGION` may also come from the process environment, as for every AWS tool.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from lab.settings.base import Section, check_domain, env

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


class AwsSettings(Section):
    region: str = env("AWS_REGION", "")
    route53_zone: str = env("AWS_ROUTE53_ZONE", "")
    dns_ttl: int = env("AWS_DNS_TTL", 60, ge=10, le=86400)
    dns_on_stop: Literal["remove", "keep"] = env(
        "AWS_DNS_ON_STOP", "remove", description="use remove (delete the A record on stop) or keep"
    )
    instance_type: str = env("AWS_INSTANCE_TYPE", "t3.large")
    disk_gb: int = env("AWS_DISK_GB", 40, ge=8, le=16384)
    ssh_cidr: str = env("AWS_SSH_CIDR", "")
    ami_name: str = env(
        "AWS_UBUNTU_AMI_NAME",
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
        min_length=1,
    )
    lambda_auth: Literal["secret", "iam"] = env(
        "AWS_LAMBDA_AUTH",
        "secret",
        description="use secret (Function URL with a shared token) or iam (AWS_IAM-authorised URL)",
    )
    ssh_timeout: int = env("AWS_SSH_TIMEOUT", 600, ge=10, le=3600)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip()
        if value and not _REGION.match(value):
            raise ValueError("is not an AWS region; use e.g. eu-south-1 or us-east-1")
        return value

    @field_validator("route53_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        value = value.strip().rstrip(".")
        return check_domain(value) if value else value

    @field_validator("instance_type")
    @classmethod
    def _type(cls, value: str) -> str:
        value = value.strip()
        if not _INSTANCE_TYPE.match(value):
            raise ValueError("is not an EC2 instance type; use e.g. t3.large")
        return value

    @field_validator("ssh_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        from ipaddress import ip_network

        value = value.strip()
        if not value:
            return value
        try:
            return str(ip_network(value if "/" in value else f"{value}/32", strict=False))
        except ValueError:
            raise ValueError("is not an IPv4 address or CIDR; use e.g. 203.0.113.7/32") from None
