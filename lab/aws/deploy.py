"""`lab aws lambda deploy`: the power and DNS functions, their roles, URL and EventBridge rule.

Least privilege: each function has its own role. `ec2:DescribeInstances` takes no resource ARN
(the Service Authorization Reference lists none for it), so it alone has `"Resource": "*"`;
start/stop are limited to instances tagged `okta-lab=<project>`, Route 53 changes to A records
in the one zone, logs to the function's own log group.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.aws import AwsLab, dns, iam
from lab.aws.client import TAG, lab_tags, tag_list
from lab.aws.state import aws_dir, save_private_key
from lab.errors import Problem, TargetError

FUNCTIONS = Path(__file__).resolve().parent / "functions"
RUNTIME = "python3.12"
EVENT_PATTERN = {
    "source": ["aws.ec2"],
    "detail-type": ["EC2 Instance State-change Notification"],
    "detail": {"state": ["running", "stopped", "terminated"]},
}


@dataclass(frozen=True)
class Deployed:
    region: str
    power_function: str
    power_arn: str
    url: str
    auth: str
    token_file: str
    dns_function: str = ""
    rule_arn: str = ""
    invoke_policy: str = ""


def token_file(lab: AwsLab) -> Path:
    return aws_dir(lab.ctx) / "power-token"


def power_token(lab: AwsLab) -> str:
    """The shared secret of the power URL: generated once, kept 0600 under .lab/aws/."""
    path = token_file(lab)
    if not path.is_file():
        save_private_key(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def zip_of(module: str) -> bytes:
    """A deterministic zip of one handler module (same bytes every run: no needless update)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(f"{module}.py", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, (FUNCTIONS / f"{module}.py").read_bytes())
    return buf.getvalue()


def _logs(region: str, account: str, function: str) -> list[dict[str, Any]]:
    group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function}"
    return [
        {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": group},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{group}:*"},
    ]


def power_policy(lab: AwsLab, account: str, function: str) -> dict[str, Any]:
    region = lab.aws.region
    return {
        "Version": "2012-10-17",
        "Statement": [
            *_logs(region, account, function),
            {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                "Resource": f"arn:aws:ec2:{region}:{account}:instance/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{TAG}": lab.project}},
            },
        ],
    }


def dns_policy(lab: AwsLab, account: str, function: str, zone_id: str, zone: str) -> dict[str, Any]:
    zone_arn = f"arn:aws:route53:::hostedzone/{zone_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            *_logs(lab.aws.region, account, function),
            {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
            {"Effect": "Allow", "Action": "route53:ListResourceRecordSets", "Resource": zone_arn},
            {
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": zone_arn,
                "Condition": {
                    "ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsRecordTypes": ["A"]},
                    "ForAllValues:StringLike": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": [f"*.{zone}"]},
                },
            },
        ],
    }


def deploy(lab: AwsLab, step: Any = lambda _m: None) -> Deployed:
    """Create or update everything; running it twice changes nothing the second time."""
    s = lab.settings
    zone_id = dns.zone_id(lab.aws, s.route53_zone) if s.route53_zone else ""
    account = lab.aws.account()
    power = lab.name("power")
    env = {"LAB_PROJECT": lab.project, "LAB_AUTH": s.lambda_auth}
    if s.lambda_auth == "secret":
        env["LAB_TOKEN_SHA256"] = hashlib.sha256(power_token(lab).encode()).hexdigest()
    role = iam.ensure_role(lab, power, "lambda.amazonaws.com", {"power": power_policy(lab, account, power)}, account)
    arn = _ensure_function(lab, power, "power", role, env, step)
    url = _ensure_url(lab, power, "NONE" if s.lambda_auth == "secret" else "AWS_IAM")
    result = Deployed(
        region=lab.aws.region,
        power_function=power,
        power_arn=arn,
        url=url,
        auth=s.lambda_auth,
        token_file=str(token_file(lab)) if s.lambda_auth == "secret" else "",
        invoke_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"],
                        "Resource": arn,
                    }
                ],
            }
        ),
    )
    if not zone_id:
        step("AWS_ROUTE53_ZONE is empty: no DNS function")
        return result
    fn = lab.name("dns")
    policy = dns_policy(lab, account, fn, zone_id, s.route53_zone)
    role = iam.ensure_role(lab, fn, "lambda.amazonaws.com", {"dns": policy}, account)
    dns_env = {
        "LAB_PROJECT": lab.project,
        "LAB_ZONE": s.route53_zone,
        "LAB_ZONE_ID": zone_id,
        "LAB_TTL": str(s.dns_ttl),
        "LAB_DNS_ON_STOP": s.dns_on_stop,
    }
    dns_arn = _ensure_function(lab, fn, "dns_update", role, dns_env, step)
    rule = lab.aws.call(
        "events",
        "put_rule",
        Name=fn,
        EventPattern=json.dumps(EVENT_PATTERN),
        State="ENABLED",
        Description=f"okta-lab {lab.project}: EC2 state changes -> {fn}",
        Tags=tag_list(lab_tags(lab.project)),
    )["RuleArn"]
    lab.aws.call("events", "put_targets", Rule=fn, Targets=[{"Id": "dns-update", "Arn": dns_arn}])
    _permit(lab, fn, "events", Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule)
    return Deployed(**{**result.__dict__, "dns_function": fn, "rule_arn": rule})


def _ensure_function(lab: AwsLab, name: str, module: str, role: str, env: dict[str, str], step: Any) -> str:
    code = zip_of(module)
    sha = base64.b64encode(hashlib.sha256(code).digest()).decode()
    found, missing = lab.aws.error_code("lambda", "get_function", FunctionName=name)
    config = {
        "Role": role,
        "Handler": f"{module}.handler",
        "Runtime": RUNTIME,
        "Timeout": 30,
        "MemorySize": 128,
        "Environment": {"Variables": env},
        "Description": f"okta-lab {lab.project}: {module}",
    }
    if missing == "ResourceNotFoundException":
        step(f"creating function {name}")
        deadline = time.monotonic() + 90
        while True:  # a new role takes a few seconds before Lambda may assume it
            created, code_err = lab.aws.error_code(
                "lambda",
                "create_function",
                FunctionName=name,
                Code={"ZipFile": code},
                Tags=lab_tags(lab.project),
                **config,
            )
            if not code_err:
                return str(created["FunctionArn"])
            if code_err != "InvalidParameterValueException" or time.monotonic() > deadline:
                raise TargetError(Problem(f"creating Lambda function {name} failed: {code_err}"))
            time.sleep(5)
    current = found["Configuration"]
    if current.get("CodeSha256") != sha:
        step(f"updating the code of {name}")
        lab.aws.call("lambda", "update_function_code", FunctionName=name, ZipFile=code)
        lab.aws.wait("lambda", "function_updated_v2", FunctionName=name)
    now = {k: current.get(k) for k in config}
    now["Environment"] = {"Variables": current.get("Environment", {}).get("Variables", {})}
    if now != config:
        step(f"updating the configuration of {name}")
        lab.aws.call("lambda", "update_function_configuration", FunctionName=name, **config)
    return str(current["FunctionArn"])


def _ensure_url(lab: AwsLab, name: str, auth: str) -> str:
    found, code = lab.aws.error_code("lambda", "get_function_url_config", FunctionName=name)
    if code == "ResourceNotFoundException":
        found = lab.aws.call("lambda", "create_function_url_config", FunctionName=name, AuthType=auth)
    elif found.get("AuthType") != auth:
        found = lab.aws.call("lambda", "update_function_url_config", FunctionName=name, AuthType=auth)
    if auth == "NONE":  # the public URL; the function itself checks the token
        _permit(lab, name, "url", Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
        _permit(lab, name, "url-invoke", Action="lambda:InvokeFunction", Principal="*", InvokedViaFunctionUrl=True)
    else:
        for sid in ("url", "url-invoke"):
            lab.aws.error_code("lambda", "remove_permission", FunctionName=name, StatementId=sid)
    return str(found["FunctionUrl"])


def _permit(lab: AwsLab, function: str, sid: str, **params: Any) -> None:
    _, code = lab.aws.error_code("lambda", "add_permission", FunctionName=function, StatementId=sid, **params)
    if code not in ("", "ResourceConflictException"):  # already granted: nothing to do
        raise TargetError(Problem(f"granting {params.get('Principal')} access to {function} failed: {code}"))
