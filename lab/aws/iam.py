"""IAM roles for what the lab deploys: one trust principal each, inline least-privilege policies.

Roles live under the path `/okta-lab/<project>/` and carry the lab tag, so cleanup finds them.
"""

from __future__ import annotations

import json
from typing import Any

from lab.aws import AwsLab
from lab.aws.client import lab_tags, tag_list


def role_path(lab: AwsLab) -> str:
    return f"/okta-lab/{lab.project}/"


#: Services documented to send `aws:SourceAccount` when they assume a role (EventBridge Scheduler's
#: execution-role guide recommends the condition). Lambda execution roles use the plain trust
#: policy of the Lambda developer guide.
_SOURCE_ACCOUNT = {"scheduler.amazonaws.com"}


def trust(service: str, account: str) -> dict[str, Any]:
    """Only `service` may assume the role (for Scheduler: only on behalf of this account)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if service in _SOURCE_ACCOUNT:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def ensure_role(lab: AwsLab, name: str, service: str, policies: dict[str, dict[str, Any]], account: str) -> str:
    """Create or update role `name` with exactly `policies` added inline; its ARN. Idempotent."""
    doc = json.dumps(trust(service, account), sort_keys=True)
    found, code = lab.aws.error_code("iam", "get_role", RoleName=name)
    if code == "NoSuchEntity":
        found = lab.aws.call(
            "iam",
            "create_role",
            RoleName=name,
            Path=role_path(lab),
            AssumeRolePolicyDocument=doc,
            Description=f"okta-lab {lab.project}: assumed by {service}",
            Tags=tag_list(lab_tags(lab.project)),
        )
    elif code:
        lab.aws.call("iam", "get_role", RoleName=name)  # raises the error with its hint
    else:
        lab.aws.call("iam", "update_assume_role_policy", RoleName=name, PolicyDocument=doc)
    for policy, body in policies.items():
        lab.aws.call("iam", "put_role_policy", RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(body))
    return str(found["Role"]["Arn"])


def delete_role(lab: AwsLab, name: str) -> bool:
    """Delete role `name` and its inline policies; False when it does not exist."""
    listed, code = lab.aws.error_code("iam", "list_role_policies", RoleName=name)
    if code == "NoSuchEntity":
        return False
    for policy in listed.get("PolicyNames", []):
        lab.aws.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy)
    lab.aws.call("iam", "delete_role", RoleName=name)
    return True
