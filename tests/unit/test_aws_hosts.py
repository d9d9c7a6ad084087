"""`lab aws host|schedule|cleanup` against a moto server on 127.0.0.1 (EC2, Route 53, IAM, Scheduler).

Every call is made by the real CLI in this process, with a guard that fails any connection or
name lookup other than the loopback: nothing can reach a real AWS endpoint.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import LabError
from tests.unit.test_aws_moto import LATEST, aws_env, loopback_only, moto_server, reset  # noqa: F401

ZONE = "lab.example.com"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def env(moto: str, monkeypatch: pytest.MonkeyPatch, loopback_only: list[object]) -> Iterator[dict[str, str]]:  # noqa: F811
    reset(moto)
    values = aws_env(moto)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("LAB_AWS_SSH_ADDRESS_OVERRIDE", raising=False)
    yield values
    assert not loopback_only, f"connections outside 127.0.0.1: {loopback_only}"


def client(service: str) -> Any:
    return boto3.client(service)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from lab.envfile import write_env

    write_env(tmp_path / ".env", force=True, overrides={"LAB_PROJECT": "awstest", "AWS_ROUTE53_ZONE": ZONE})
    return tmp_path


def lab(root: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    """Run `lab -C root ARGS` in this process; (exit code, output), LabErrors as `main` prints them."""
    result = CliRunner().invoke(app, ["-C", str(root), *args], input=input, catch_exceptions=True)
    if isinstance(result.exception, LabError):
        lines = [f"error: {p}" for p in result.exception.problems]
        return result.exception.exit_code, result.output + "\n".join(lines)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def zone_id() -> str:
    return client("route53").create_hosted_zone(Name=ZONE, CallerReference="t")["HostedZone"]["Id"].split("/")[-1]


def a_records(zid: str) -> dict[str, str]:
    sets = client("route53").list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    return {r["Name"].rstrip("."): r["ResourceRecords"][0]["Value"] for r in sets if r["Type"] == "A"}


def instance(iid: str) -> dict[str, Any]:
    return client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def create(root: Path, name: str = "lab1") -> tuple[int, str]:
    return lab(root, "aws", "host", "create", name, "--ssh-from", "203.0.113.7", "--no-wait")


def test_create_makes_a_tagged_ubuntu_host_reachable_only_from_the_caller(env: dict[str, str], project: Path) -> None:
    zid = zone_id()
    code, out = create(project)
    assert code == 0, out
    hosts = json.loads((project / ".lab/aws/hosts.json").read_text())["hosts"]
    rec = hosts["lab1"]
    inst = instance(rec["instance_id"])
    assert inst["ImageId"] == LATEST  # newest Canonical image, not the newer look-alike of another owner
    assert inst["InstanceType"] == "t3.large" and inst["State"]["Name"] == "running"
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags == {"okta-lab": "awstest", "okta-lab:host": "lab1", "Name": "lab1", "PublicDNS": f"lab1.{ZONE}"}
    group = client("ec2").describe_security_groups(GroupIds=[rec["security_group"]])["SecurityGroups"][0]
    assert [(p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [
        (22, 22, ["203.0.113.7/32"])
    ]
    key = Path(rec["key_file"])
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600 and key.is_relative_to(project / ".lab")
    assert a_records(zid) == {f"lab1.{ZONE}": inst["PublicIpAddress"]}
    inventory = (project / "inventory.ini").read_text()
    assert f"lab1 ansible_host=lab1.{ZONE} ansible_port=22 ansible_user=root ansible_ssh_private_key_file={key}" in (
        inventory
    )
    assert "next: lab up --host lab1" in out


def test_create_twice_changes_nothing(env: dict[str, str], project: Path) -> None:
    zone_id()
    assert create(project)[0] == 0
    before = (project / ".lab/aws/hosts.json").read_text()
    code, out = create(project)
    assert code == 0, out
    assert "exists already" in out
    running = client("ec2").describe_instances(Filters=[{"Name": "tag:okta-lab", "Values": ["awstest"]}])
    assert sum(len(r["Instances"]) for r in running["Reservations"]) == 1
    assert len(client("ec2").describe_key_pairs()["KeyPairs"]) == 1
    assert json.loads(before)["hosts"]["lab1"]["instance_id"] in (project / ".lab/aws/hosts.json").read_text()


def test_stop_removes_and_start_restores_the_record(env: dict[str, str], project: Path) -> None:
    zid = zone_id()
    assert create(project)[0] == 0
    code, out = lab(project, "aws", "host", "stop", "lab1")
    assert code == 0, out
    assert a_records(zid) == {}
    code, out = lab(project, "aws", "host", "start", "lab1", "--no-wait")
    assert code == 0, out
    iid = json.loads((project / ".lab/aws/hosts.json").read_text())["hosts"]["lab1"]["instance_id"]
    assert a_records(zid) == {f"lab1.{ZONE}": instance(iid)["PublicIpAddress"]}
    code, out = lab(project, "aws", "host", "status", "lab1", "--json")
    assert code == 0 and json.loads(out)["state"] == "running"
    code, out = lab(project, "aws", "host", "list", "--json")
    assert [h["name"] for h in json.loads(out)] == ["lab1"]


def test_stop_keeps_the_record_when_configured(env: dict[str, str], project: Path) -> None:
    with (project / ".env").open("a") as fh:
        fh.write("AWS_DNS_ON_STOP=keep\n")
    zid = zone_id()
    assert create(project)[0] == 0
    assert lab(project, "aws", "host", "stop", "lab1")[0] == 0
    assert list(a_records(zid)) == [f"lab1.{ZONE}"]


def test_schedule_stops_and_starts_in_the_zone(env: dict[str, str], project: Path) -> None:
    zone_id()
    assert create(project)[0] == 0
    args = ["aws", "schedule", "lab1", "--stop", "20:00", "--start", "08:30", "--tz", "Europe/Rome"]
    code, out = lab(project, *args)
    assert code == 0, out
    sched = client("scheduler")
    stop = sched.get_schedule(Name="lab1-stop", GroupName="okta-lab-awstest")
    assert stop["ScheduleExpression"] == "cron(0 20 ? * * *)"
    assert stop["ScheduleExpressionTimezone"] == "Europe/Rome"
    assert stop["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ec2:stopInstances"
    iid = json.loads((project / ".lab/aws/hosts.json").read_text())["hosts"]["lab1"]["instance_id"]
    assert json.loads(stop["Target"]["Input"]) == {"InstanceIds": [iid]}
    start = sched.get_schedule(Name="lab1-start", GroupName="okta-lab-awstest")
    assert start["ScheduleExpression"] == "cron(30 8 ? * * *)"
    policy = client("iam").get_role_policy(RoleName="okta-lab-awstest-scheduler", PolicyName="host-lab1")
    statement = policy["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statement] == [f"arn:aws:ec2:eu-south-1:123456789012:instance/{iid}"]
    # again, without --start: the same stop schedule, the start schedule is gone
    code, out = lab(project, "aws", "schedule", "lab1", "--stop", "20:00", "--tz", "Europe/Rome")
    assert code == 0, out
    names = [s["Name"] for s in sched.list_schedules(GroupName="okta-lab-awstest")["Schedules"]]
    assert names == ["lab1-stop"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stop", "25:00", "--tz", "Europe/Rome"], "--stop '25:00' is not a time"),
        (["--stop", "20:00", "--tz", "Mars/Olympus"], "--tz 'Mars/Olympus' is not a time zone"),
        (["--stop", "20:00", "--tz", "UTC", "--days", "FUNDAY"], "--days 'FUNDAY' is not a day list"),
    ],
)
def test_schedule_bad_input_is_one_line_and_exit_2(
    env: dict[str, str], project: Path, args: list[str], message: str
) -> None:
    code, out = lab(project, "aws", "schedule", "lab1", *args)
    assert code == 2 and message in out


def test_destroy_removes_what_create_made(env: dict[str, str], project: Path) -> None:
    zid = zone_id()
    assert create(project)[0] == 0
    assert lab(project, "aws", "schedule", "lab1", "--stop", "20:00", "--tz", "UTC")[0] == 0
    assert lab(project, "aws", "host", "destroy", "lab1", input="n\n")[0] == 1  # asked, refused: nothing done
    assert a_records(zid)
    code, out = lab(project, "aws", "host", "destroy", "lab1", "--yes")
    assert code == 0, out
    ec2 = client("ec2")
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    assert [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"] == []
    assert a_records(zid) == {}
    assert client("scheduler").list_schedules(GroupName="okta-lab-awstest")["Schedules"] == []
    assert "lab1" not in (project / "inventory.ini").read_text()
    assert not list((project / ".lab/aws/keys").glob("*.pem"))


def test_cleanup_removes_exactly_the_lab_tagged_resources(env: dict[str, str], project: Path) -> None:
    zone_id()
    assert create(project)[0] == 0
    ec2 = client("ec2")
    other = ec2.run_instances(ImageId=LATEST, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    keep_group = ec2.create_security_group(GroupName="not-the-lab", Description="x")["GroupId"]
    ec2.create_key_pair(KeyName="not-the-lab")
    other_lab = ec2.run_instances(
        ImageId=LATEST,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "okta-lab", "Value": "someoneelse"}]}],
    )["Instances"][0]["InstanceId"]
    assert lab(project, "aws", "schedule", "lab1", "--stop", "20:00", "--tz", "Europe/Rome")[0] == 0
    code, out = lab(project, "aws", "cleanup", "--yes")
    assert code == 0, out
    assert "instance" in out and "security group" in out and "key pair" in out
    assert client("scheduler").list_schedules()["Schedules"] == [], "the lab's schedule is removed"
    assert instance(other)["State"]["Name"] == "running"
    assert instance(other_lab)["State"]["Name"] == "running"
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["not-the-lab"]
    assert ec2.describe_security_groups(GroupIds=[keep_group])["SecurityGroups"]
    code, out = lab(project, "aws", "cleanup", "--yes")
    assert code == 0 and "nothing to remove" in out


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, [], "AWS_REGION is not set"),
        ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None}, [],
         "no AWS credentials found"),
        ({}, ["--ssh-from", "not-an-ip"], "--ssh-from 'not-an-ip' is not an IPv4 address"),
        ({}, ["--disk", "2"], "--disk 2 is out of range"),
        ({}, ["--type", "t9.nonsense"], "instance type 't9.nonsense' is not offered"),
        ({"NAME": "Bad_Name"}, [], "'Bad_Name' is not a host name"),
        ({"ZONE": "none"}, [], "no public hosted zone of that name"),
    ],
)  # fmt: skip
def test_create_bad_settings_are_one_line_exit_2_and_create_nothing(
    env: dict[str, str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: dict[str, str | None],
    args: list[str],
    message: str,
) -> None:
    if setup.get("ZONE") != "none":
        zone_id()
    name = setup.pop("NAME", None) or "lab1"
    setup.pop("ZONE", None)
    for key, value in setup.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    code, out = lab(project, "aws", "host", "create", name, *(args or ["--ssh-from", "203.0.113.7"]), "--no-wait")
    assert code == 2, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], out
    for key, value in aws_env(env["AWS_ENDPOINT_URL"]).items():
        os.environ[key] = value
    ec2 = client("ec2")
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    assert [r for r in ec2.describe_instances()["Reservations"]] == []
    assert not (project / ".lab/aws/hosts.json").exists()


def test_bad_aws_settings_in_env_file_are_reported_together(env: dict[str, str], project: Path) -> None:
    with (project / ".env").open("a") as fh:
        fh.write("AWS_REGION=moon-1\nAWS_DNS_ON_STOP=sometimes\n")
    code, out = lab(project, "aws", "host", "list")
    assert code == 2
    assert "AWS_REGION='moon-1' is not an AWS region" in out and "AWS_DNS_ON_STOP='sometimes'" in out
