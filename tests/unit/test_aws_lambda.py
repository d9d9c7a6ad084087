"""`lab aws lambda deploy` against moto, and the two handlers with real event shapes.

moto stores functions, URLs, permissions and rules but does not run a function on an EC2 state
change nor serve a Function URL: the handlers are called here with the events AWS sends
(EventBridge "EC2 Instance State-change Notification"; Function URL payload format 2.0), and
make their boto3 calls against the same moto server.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lab.aws.functions import dns_update, power
from tests.unit.test_aws_hosts import ZONE, a_records, create, env, lab, moto, project, zone_id  # noqa: F401
from tests.unit.test_aws_moto import LATEST, loopback_only  # noqa: F401


def url_event(method: str = "GET", query: dict[str, str] | None = None, body: str = "", **headers: str) -> dict:  # type: ignore[type-arg]
    """A Lambda Function URL request (payload format 2.0), as AWS sends it."""
    query = query or {}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": {"host": "abc.lambda-url.eu-south-1.on.aws", "user-agent": "okta-workflows", **headers},
        **({"queryStringParameters": query} if query else {}),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-south-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7",
                     "userAgent": "okta-workflows"},
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "02/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796212800000,
        },
        **({"body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True} if body else
           {"isBase64Encoded": False}),
    }  # fmt: skip


def state_event(instance_id: str, state: str) -> dict:  # type: ignore[type-arg]
    return {
        "version": "0",
        "id": "7d708c67-bcb4-5397-9ad8-783d6aadc17f",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2026-12-02T12:34:56Z",
        "region": "eu-south-1",
        "resources": [f"arn:aws:ec2:eu-south-1:123456789012:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "state": state},
    }


TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def fn_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # noqa: F811
    monkeypatch.setenv("LAB_PROJECT", "awstest")
    monkeypatch.setenv("LAB_AUTH", "secret")
    monkeypatch.setenv("LAB_TOKEN_SHA256", hashlib.sha256(TOKEN.encode()).hexdigest())
    monkeypatch.setenv("LAB_ZONE", ZONE)
    monkeypatch.setenv("LAB_TTL", "30")
    monkeypatch.setenv("LAB_DNS_ON_STOP", "remove")
    yield


def tagged(owner: str = "awstest", host: str = "lab1", **extra: str) -> str:
    tags = [{"Key": "okta-lab", "Value": owner}, {"Key": "okta-lab:host", "Value": host}]
    tags += [{"Key": k, "Value": v} for k, v in extra.items()]
    return boto3.client("ec2").run_instances(
        ImageId=LATEST, MinCount=1, MaxCount=1, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
    )["Instances"][0]["InstanceId"]


def state(iid: str) -> str:
    return boto3.client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]


def body(resp: dict[str, Any]) -> dict[str, Any]:
    return json.loads(resp["body"])


def test_power_url_needs_the_token(fn_env: None) -> None:
    iid = tagged()
    for event in (
        url_event(query={"operation": "stop", "hosts": "lab1"}),
        url_event(query={"operation": "stop", "hosts": "lab1", "token": "wrong"}),
    ):
        resp = power.handler(event)
        assert resp["statusCode"] == 401
    assert state(iid) == "running"


def test_power_bookmark_stops_and_post_starts_by_name(fn_env: None) -> None:
    iid, other = tagged(), tagged(host="lab2")
    resp = power.handler(url_event(query={"operation": "stop", "hosts": "lab1", "token": TOKEN}))
    assert resp["statusCode"] == 200, resp
    assert body(resp)["changed"] == ["lab1"]
    assert body(resp)["hosts"]["lab1"]["state"] in ("stopping", "stopped")  # as EC2 answered the call
    assert state(iid) == "stopped" and state(other) == "running"
    post = url_event("POST", body=json.dumps({"operation": "start", "hosts": "lab1"}), **{"x-lab-token": TOKEN})
    assert body(power.handler(post))["changed"] == ["lab1"]
    assert state(iid) == "running"
    again = body(power.handler(post))  # nothing to do the second time
    assert again["changed"] == [] and again["unchanged"] == ["lab1"]


def test_power_all_touches_only_this_labs_instances(fn_env: None) -> None:
    mine, foreign = tagged(), tagged(owner="someoneelse")
    untagged = boto3.client("ec2").run_instances(ImageId=LATEST, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    resp = power.handler({"operation": "stop", "hosts": "all"})  # direct invoke (Okta Workflows' Lambda card)
    assert resp["statusCode"] == 200 and body(resp)["changed"] == ["lab1"]
    assert (state(mine), state(foreign), state(untagged)) == ("stopped", "running", "running")
    status = body(power.handler({"operation": "status", "hosts": "all"}))
    assert status["hosts"] == {"lab1": {"instance": mine, "state": "stopped"}}


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"operation": "reboot", "hosts": "all"}, 400),
        ({"operation": "start", "hosts": "Bad Name"}, 400),
        ({"operation": "start", "hosts": "nosuch"}, 404),
        (url_event("DELETE", {"token": TOKEN}), 405),
        (url_event("POST", body="[1, 2]", **{"x-lab-token": TOKEN}), 400),
    ],
)
def test_power_bad_requests(fn_env: None, event: dict[str, Any], code: int) -> None:
    resp = power.handler(event)
    assert resp["statusCode"] == code and "message" in body(resp)


def test_dns_follows_the_instance_state(fn_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    zid = zone_id()
    monkeypatch.setenv("LAB_ZONE_ID", zid)
    iid = tagged(PublicDNS=f"lab1.{ZONE}")
    ip = boto3.client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    assert dns_update.handler(state_event(iid, "running"))["status"] == "upserted"
    assert a_records(zid) == {f"lab1.{ZONE}": ip}
    assert dns_update.handler(state_event(iid, "stopped"))["status"] == "deleted"
    assert a_records(zid) == {}
    assert dns_update.handler(state_event(iid, "stopped"))["status"] == "unchanged"


def test_dns_ignores_other_instances_and_refuses_names_outside_the_zone(
    fn_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    zid = zone_id()
    monkeypatch.setenv("LAB_ZONE_ID", zid)
    assert dns_update.handler(state_event(tagged(owner="other"), "running"))["status"] == "ignored"
    assert dns_update.handler(state_event(tagged(PublicDNS="www.example.org"), "running"))["status"] == "error"
    assert dns_update.handler({"detail-type": "Scheduled Event", "detail": {}})["status"] == "ignored"
    assert a_records(zid) == {}


def test_deploy_publishes_both_functions_with_least_privilege(env: dict[str, str], project: Path) -> None:  # noqa: F811
    zid = zone_id()
    code, out = lab(project, "aws", "lambda", "deploy", "--json")
    assert code == 0, out
    result = json.loads(out[out.index("{") :])
    assert "token" not in result and result["auth"] == "secret"
    assert result["url"].startswith("https://") and result["dns_function"] == "okta-lab-awstest-dns"
    lam, iam = boto3.client("lambda"), boto3.client("iam")
    cfg = lam.get_function(FunctionName="okta-lab-awstest-power")["Configuration"]
    token = (project / ".lab/aws/power-token").read_text().strip()
    assert (project / ".lab/aws/power-token").stat().st_mode & 0o777 == 0o600
    assert cfg["Environment"]["Variables"]["LAB_TOKEN_SHA256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(cfg)
    assert lam.get_function_url_config(FunctionName="okta-lab-awstest-power")["AuthType"] == "NONE"
    for role in ("okta-lab-awstest-power", "okta-lab-awstest-dns"):
        doc = iam.get_role_policy(RoleName=role, PolicyName=role.rsplit("-", 1)[-1])["PolicyDocument"]
        wildcard = [s["Action"] for s in doc["Statement"] if s["Resource"] == "*"]
        assert wildcard == ["ec2:DescribeInstances"], doc
    dns_doc = iam.get_role_policy(RoleName="okta-lab-awstest-dns", PolicyName="dns")["PolicyDocument"]
    assert f"arn:aws:route53:::hostedzone/{zid}" in json.dumps(dns_doc)
    rule = boto3.client("events").describe_rule(Name="okta-lab-awstest-dns")
    assert json.loads(rule["EventPattern"])["detail-type"] == ["EC2 Instance State-change Notification"]
    # twice: nothing changes, same URL
    code, out2 = lab(project, "aws", "lambda", "deploy", "--json")
    assert code == 0 and json.loads(out2[out2.index("{") :])["url"] == result["url"]
    assert "creating" not in out2 and "updating" not in out2, out2
    assert (project / ".lab/aws/power-token").read_text().strip() == token
    code, text = lab(project, "aws", "lambda", "deploy", "--show-secret")
    assert code == 0 and f"x-lab-token: {token}" in text and "Okta Workflows" in text
    # cleanup takes functions, rule and roles away
    code, out = lab(project, "aws", "cleanup", "--yes")
    assert code == 0, out
    assert lam.list_functions()["Functions"] == []
    assert iam.list_roles(PathPrefix="/okta-lab/awstest/")["Roles"] == []
    assert boto3.client("events").list_rules(NamePrefix="okta-lab-awstest")["Rules"] == []


def test_deploy_with_iam_auth_has_no_public_url(env: dict[str, str], project: Path) -> None:  # noqa: F811
    with (project / ".env").open("a") as fh:
        fh.write("AWS_LAMBDA_AUTH=iam\nAWS_ROUTE53_ZONE=\n")
    code, out = lab(project, "aws", "lambda", "deploy")
    assert code == 0, out
    lam = boto3.client("lambda")
    assert lam.get_function_url_config(FunctionName="okta-lab-awstest-power")["AuthType"] == "AWS_IAM"
    assert not (project / ".lab/aws/power-token").exists()
    assert (
        "LAB_TOKEN_SHA256"
        not in lam.get_function(FunctionName="okta-lab-awstest-power")["Configuration"]["Environment"]["Variables"]
    )
    assert "x-lab-token" not in out and "SigV4" in out
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["okta-lab-awstest-power"]


def test_power_url_with_iam_auth_needs_no_token(fn_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_AUTH", "iam")  # the URL admitted only a SigV4-signed request
    tagged()
    resp = power.handler(url_event(query={"operation": "status", "hosts": "lab1"}))
    assert resp["statusCode"] == 200 and body(resp)["hosts"]["lab1"]["state"] == "running"
