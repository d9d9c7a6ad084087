"""`lab aws schedule`: stop (and start) a lab host every day with EventBridge Scheduler.

Each schedule calls EC2 directly through Scheduler's universal target
(`arn:aws:scheduler:::aws-sdk:ec2:stopInstances`), with a role allowed to start/stop exactly that
instance. Schedules live in the group `okta-lab-<project>` (schedules cannot be tagged; the group
is), named `<host>-stop` and `<host>-start`. Scheduler API:
https://docs.aws.amazon.com/scheduler/latest/APIReference/
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lab.aws import AwsLab, iam
from lab.aws.client import lab_tags, tag_list
from lab.aws.state import HostStore
from lab.errors import ConfigError, Problem

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DAYS = re.compile(r"^(\*|(MON|TUE|WED|THU|FRI|SAT|SUN)([-,](MON|TUE|WED|THU|FRI|SAT|SUN))*)$")


@dataclass(frozen=True)
class Schedule:
    name: str
    action: str  # "stop" | "start"
    expression: str
    timezone: str
    arn: str = ""


def cron(hhmm: str, days: str = "*") -> str:
    """`20:00` -> `cron(0 20 ? * * *)` (Scheduler's six-field cron: min hour dom month dow year)."""
    m = _TIME.match(hhmm)
    assert m
    return f"cron({int(m[2])} {int(m[1])} ? * {days} *)"


def validate(stop: str, start: str | None, tz: str, days: str) -> list[Problem]:
    problems = []
    for flag, value in (("--stop", stop), ("--start", start)):
        if value is not None and not _TIME.match(value):
            problems.append(Problem(f"{flag} {value!r} is not a time", "use HH:MM on a 24-hour clock, e.g. 20:00"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(f"--tz {tz!r} is not a time zone", "use an IANA name, e.g. Europe/Rome or UTC"))
    if not _DAYS.match(days.upper()):
        problems.append(Problem(f"--days {days!r} is not a day list", "use e.g. MON-FRI, SAT,SUN or * (every day)"))
    return problems


def group_name(lab: AwsLab) -> str:
    return lab.name()


def role_name(lab: AwsLab) -> str:
    return lab.name("scheduler")


def set_schedule(lab: AwsLab, host: str, *, stop: str, start: str | None, tz: str, days: str = "*") -> list[Schedule]:
    """Make the host's schedules exactly these (no `start`: an existing start schedule goes). Idempotent."""
    problems = validate(stop, start, tz, days)
    record = HostStore.load(lab.ctx).hosts.get(host)
    if record is None:
        problems.append(Problem(f"no lab AWS host named {host!r}", f"create it with `lab aws host create {host}`"))
    if problems:
        raise ConfigError(*problems)
    assert record is not None
    account = lab.aws.account()
    instance_arn = f"arn:aws:ec2:{lab.aws.region}:{account}:instance/{record.instance_id}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"], "Resource": instance_arn}
        ],
    }
    role = iam.ensure_role(lab, role_name(lab), "scheduler.amazonaws.com", {f"host-{host}": policy}, account)
    ensure_group(lab)
    wanted = {"stop": stop, "start": start}
    out = []
    for action, at in wanted.items():
        name = f"{host}-{action}"
        if at is None:
            lab.aws.error_code("scheduler", "delete_schedule", Name=name, GroupName=group_name(lab))
            continue
        params = {
            "Name": name,
            "GroupName": group_name(lab),
            "ScheduleExpression": cron(at, days.upper()),
            "ScheduleExpressionTimezone": tz,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": f"okta-lab {lab.project}: {action} {host} at {at} {tz}",
            "Target": {
                "Arn": f"arn:aws:scheduler:::aws-sdk:ec2:{action}Instances",
                "RoleArn": role,
                "Input": json.dumps({"InstanceIds": [record.instance_id]}),
            },
        }
        _, code = lab.aws.error_code("scheduler", "get_schedule", Name=name, GroupName=group_name(lab))
        operation = "create_schedule" if code == "ResourceNotFoundException" else "update_schedule"
        arn = lab.aws.call("scheduler", operation, **params).get("ScheduleArn", "")
        out.append(Schedule(name, action, params["ScheduleExpression"], tz, arn))  # type: ignore[arg-type]
    return out


def ensure_group(lab: AwsLab) -> None:
    _, code = lab.aws.error_code("scheduler", "get_schedule_group", Name=group_name(lab))
    if code == "ResourceNotFoundException":
        lab.aws.call("scheduler", "create_schedule_group", Name=group_name(lab), Tags=tag_list(lab_tags(lab.project)))


def list_schedules(lab: AwsLab, host: str = "") -> list[Schedule]:
    found, code = lab.aws.error_code("scheduler", "list_schedules", GroupName=group_name(lab))
    out = []
    for item in found.get("Schedules", []):
        name = item["Name"]
        if host and not name.startswith(f"{host}-"):
            continue
        detail = lab.aws.call("scheduler", "get_schedule", Name=name, GroupName=group_name(lab))
        out.append(
            Schedule(
                name,
                name.rsplit("-", 1)[-1],
                detail.get("ScheduleExpression", ""),
                detail.get("ScheduleExpressionTimezone", ""),
                detail.get("Arn", ""),
            )
        )
    return out


def delete_host_schedules(lab: AwsLab, host: str) -> None:
    """Remove the host's schedules and its statement in the scheduler role (if any)."""
    for action in ("stop", "start"):
        lab.aws.error_code("scheduler", "delete_schedule", Name=f"{host}-{action}", GroupName=group_name(lab))
    lab.aws.error_code("iam", "delete_role_policy", RoleName=role_name(lab), PolicyName=f"host-{host}")
