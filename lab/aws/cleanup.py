"""`lab aws cleanup`: remove exactly what carries this lab's tag (`okta-lab=<project>`), in order.

Instances first (and their DNS records), then security groups and key pairs, schedules, the
EventBridge rule, Lambda functions, IAM roles under `/okta-lab/<project>/`; finally the local
records (`.lab/aws/`, the inventory block). Resources of other projects or untagged ones stay.
"""

from __future__ import annotations

from collections.abc import Callable

from lab.aws import AwsLab, dns, hosts, iam, schedule
from lab.aws.client import HOST_TAG, TAG
from lab.aws.state import HostStore, aws_dir


def cleanup(lab: AwsLab, step: Callable[[str], None] = lambda _m: None) -> list[str]:
    """What was removed, one line each. Safe to run again (then nothing)."""
    removed: list[str] = []
    tagged = [{"Name": f"tag:{TAG}", "Values": [lab.project]}]
    reservations = lab.aws.pages("ec2", "describe_instances", "Reservations", Filters=tagged)
    instances = [i for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    if instances:
        ids = [i["InstanceId"] for i in instances]
        lab.aws.call("ec2", "terminate_instances", InstanceIds=ids)
        lab.aws.wait("ec2", "instance_terminated", InstanceIds=ids)
        removed += [f"instance {i}" for i in ids]
    zone = lab.settings.route53_zone
    if zone:
        for inst in instances:
            tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
            name = tags.get("PublicDNS") or (dns.record_name(tags[HOST_TAG], zone) if HOST_TAG in tags else "")
            if name and dns.delete_a(lab.aws, zone, name):
                removed.append(f"DNS record {name}")
    for group in lab.aws.call("ec2", "describe_security_groups", Filters=tagged).get("SecurityGroups", []):
        hosts.delete_group(lab, group["GroupId"])
        removed.append(f"security group {group['GroupId']}")
    for key in lab.aws.call("ec2", "describe_key_pairs", Filters=tagged).get("KeyPairs", []):
        lab.aws.call("ec2", "delete_key_pair", KeyName=key["KeyName"])
        removed.append(f"key pair {key['KeyName']}")
    group_name = schedule.group_name(lab)
    found, code = lab.aws.error_code("scheduler", "get_schedule_group", Name=group_name)
    if not code and _has_tag(lab, "scheduler", found.get("Arn", "")):
        lab.aws.call("scheduler", "delete_schedule_group", Name=group_name)  # and its schedules
        removed.append(f"schedule group {group_name}")
    rules = lab.aws.call("events", "list_rules", NamePrefix=lab.name()).get("Rules", [])
    for rule in rules:
        if _has_tag(lab, "events", rule["Arn"]):
            targets = lab.aws.call("events", "list_targets_by_rule", Rule=rule["Name"]).get("Targets", [])
            if targets:
                lab.aws.call("events", "remove_targets", Rule=rule["Name"], Ids=[t["Id"] for t in targets])
            lab.aws.call("events", "delete_rule", Name=rule["Name"])
            removed.append(f"EventBridge rule {rule['Name']}")
    for fn in lab.aws.pages("lambda", "list_functions", "Functions"):
        if fn["FunctionName"].startswith(lab.name()) and _has_tag(lab, "lambda", fn["FunctionArn"]):
            lab.aws.call("lambda", "delete_function", FunctionName=fn["FunctionName"])
            removed.append(f"Lambda function {fn['FunctionName']}")
    for role in lab.aws.pages("iam", "list_roles", "Roles", PathPrefix=iam.role_path(lab)):
        tags = lab.aws.call("iam", "list_role_tags", RoleName=role["RoleName"]).get("Tags", [])
        if {"Key": TAG, "Value": lab.project} in tags and iam.delete_role(lab, role["RoleName"]):
            removed.append(f"IAM role {role['RoleName']}")
    store = HostStore.load(lab.ctx)
    for name in list(store.hosts):
        store.remove(name)
    for path in sorted(aws_dir(lab.ctx).glob("keys/*.pem")):
        path.unlink()
    for line in removed:
        step(line)
    return removed


def _has_tag(lab: AwsLab, service: str, arn: str) -> bool:
    if not arn:
        return False
    if service == "lambda":
        tags = lab.aws.call("lambda", "list_tags", Resource=arn).get("Tags", {})
        return bool(tags.get(TAG) == lab.project)
    # the same operation names its parameter differently: Scheduler `ResourceArn`, EventBridge `ResourceARN`
    key = "ResourceArn" if service == "scheduler" else "ResourceARN"
    listed = lab.aws.call(service, "list_tags_for_resource", **{key: arn}).get("Tags", [])
    return {"Key": TAG, "Value": lab.project} in listed
