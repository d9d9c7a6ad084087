"""Keep a lab host's Route 53 A record on its current public IP (okta-lab Lambda function).

Triggered by the EventBridge event "EC2 Instance State-change Notification"
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html):
on `running` the record `PublicDNS` tag (else `<okta-lab:host>.<LAB_ZONE>`) is UPSERTed to the
public IP; on `stopping`/`stopped`/`terminated` it is deleted when LAB_DNS_ON_STOP=remove.
Instances without the tag `okta-lab=<LAB_PROJECT>` are ignored; names outside LAB_ZONE refused.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import boto3

log = logging.getLogger()
log.setLevel(logging.INFO)

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_GONE = ("shutting-down", "terminated", "stopping", "stopped")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("detail-type") != "EC2 Instance State-change Notification":
        return _result("ignored", "not an EC2 state-change event")
    detail = event.get("detail") or {}
    instance_id, state = str(detail.get("instance-id", "")), str(detail.get("state", ""))
    ec2 = boto3.client("ec2")
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ec2.exceptions.ClientError as exc:
        return _result("ignored", f"{instance_id}: {exc.response.get('Error', {}).get('Code')}")
    inst = reservations[0]["Instances"][0] if reservations and reservations[0]["Instances"] else {}
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
    if tags.get("okta-lab") != os.environ["LAB_PROJECT"]:
        return _result("ignored", f"{instance_id} is not a host of this lab")
    zone = os.environ["LAB_ZONE"].rstrip(".").lower()
    name = (tags.get("PublicDNS") or f"{tags.get('okta-lab:host', '')}.{zone}").rstrip(".").lower()
    if not name.endswith(f".{zone}") or not all(_LABEL.match(p) for p in name.split(".")):
        return _result("error", f"{name!r} is not a DNS name in {zone}")
    route53 = boto3.client("route53")
    zone_id = os.environ["LAB_ZONE_ID"]
    if state == "running":
        ip = inst.get("PublicIpAddress", "")
        if not ip:
            return _result("error", f"{instance_id} is running without a public IP")
        ttl = int(os.environ.get("LAB_TTL", "60"))
        _change(route53, zone_id, "UPSERT", name, ip, ttl)
        log.info("UPSERT %s A %s (TTL %s)", name, ip, ttl)
        return _result("upserted", f"{name} -> {ip}", name=name, ip=ip)
    if state in _GONE and os.environ.get("LAB_DNS_ON_STOP", "remove") == "remove":
        current = route53.list_resource_record_sets(
            HostedZoneId=zone_id, StartRecordName=name, StartRecordType="A", MaxItems="1"
        )["ResourceRecordSets"]
        match = [r for r in current if r["Name"].rstrip(".") == name and r["Type"] == "A"]
        if not match:
            return _result("unchanged", f"{name} has no A record")
        rr = match[0]
        _change(route53, zone_id, "DELETE", name, rr["ResourceRecords"][0]["Value"], int(rr["TTL"]))
        log.info("DELETE %s A", name)
        return _result("deleted", name, name=name)
    return _result("unchanged", f"{name}: nothing to do for state {state}")


def _change(route53: Any, zone_id: str, action: str, name: str, ip: str, ttl: int) -> None:
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Comment": f"okta-lab dns_update: {action} {name}",
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": ip}]},
                }
            ],
        },
    )


def _result(status: str, message: str, **extra: str) -> dict[str, Any]:
    return {"status": status, "message": message, **extra}
