"""Route 53: the A record `NAME.<zone>` of a lab host.

Route 53 API: ChangeResourceRecordSets (UPSERT/DELETE), ListHostedZonesByName,
ListResourceRecordSets (https://docs.aws.amazon.com/Route53/latest/APIReference/).
"""

from __future__ import annotations

from lab.aws.client import Aws
from lab.errors import ConfigError, Problem


def zone_id(aws: Aws, zone: str) -> str:
    """The id (`Z...`) of the public hosted zone `zone`; ConfigError when the account has none."""
    found = aws.call("route53", "list_hosted_zones_by_name", DNSName=zone, MaxItems="1")
    for hz in found.get("HostedZones", []):
        if hz["Name"].rstrip(".") == zone and not hz.get("Config", {}).get("PrivateZone", False):
            return str(hz["Id"]).rsplit("/", 1)[-1]
    raise ConfigError(
        Problem(
            f"AWS_ROUTE53_ZONE={zone}: no public hosted zone of that name in this AWS account",
            "create it in Route 53 (and delegate it), or leave AWS_ROUTE53_ZONE empty",
        )
    )


def record_name(host: str, zone: str) -> str:
    return f"{host}.{zone}"


def upsert_a(aws: Aws, zone: str, name: str, ip: str, ttl: int) -> None:
    """Point `name` at `ip` (creates or replaces the A record)."""
    _change(aws, zone_id(aws, zone), "UPSERT", name, ip, ttl)


def delete_a(aws: Aws, zone: str, name: str) -> bool:
    """Delete the A record `name` if it exists (DELETE needs its current value and TTL)."""
    zid = zone_id(aws, zone)
    current = current_a(aws, zid, name)
    if current is None:
        return False
    ip, ttl = current
    _change(aws, zid, "DELETE", name, ip, ttl)
    return True


def current_a(aws: Aws, zid: str, name: str) -> tuple[str, int] | None:
    sets = aws.call(
        "route53",
        "list_resource_record_sets",
        HostedZoneId=zid,
        StartRecordName=name,
        StartRecordType="A",
        MaxItems="1",
    ).get("ResourceRecordSets", [])
    for rr in sets:
        if rr["Name"].rstrip(".") == name and rr["Type"] == "A" and rr.get("ResourceRecords"):
            return rr["ResourceRecords"][0]["Value"], int(rr.get("TTL", 60))
    return None


def _change(aws: Aws, zid: str, action: str, name: str, ip: str, ttl: int) -> None:
    aws.call(
        "route53",
        "change_resource_record_sets",
        HostedZoneId=zid,
        ChangeBatch={
            "Comment": f"okta-lab: {action} {name}",
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {"Name": name, "Type": "A", "TTL": ttl, "ResourceRecords": [{"Value": ip}]},
                }
            ],
        },
    )
