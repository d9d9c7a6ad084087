"""Start, stop or report the lab's EC2 hosts, chosen by their tags (okta-lab Lambda function).

Called three ways, all returning `{"statusCode", "headers", "body"}` (body: JSON text):
- through its Function URL (event payload format 2.0, https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html):
  GET with a query string (a bookmark) or POST with a JSON body; with LAB_AUTH=secret the caller
  shows the token in the `x-lab-token` header or the `token` query parameter; with LAB_AUTH=iam the
  URL itself only admits SigV4-signed requests;
- directly (Lambda Invoke, e.g. Okta Workflows' AWS Lambda connector), authorised by IAM.

Request: `operation` = start | stop | status, `hosts` = all | NAME[,NAME...] (lab host names).
Only instances tagged `okta-lab=<LAB_PROJECT>` are ever touched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import urllib.parse
from typing import Any

import boto3

log = logging.getLogger()
log.setLevel(logging.INFO)

TAG = "okta-lab"
HOST_TAG = "okta-lab:host"
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
_SUITABLE = {"start": ("stopped",), "stop": ("pending", "running")}
_RESULT_KEY = {"start": "StartingInstances", "stop": "StoppingInstances"}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    try:
        params = _request(event)
    except _Reply as reply:
        return reply.response
    operation = str(params.get("operation", "")).strip().lower()
    if operation not in ("start", "stop", "status"):
        return _response(400, {"message": "operation must be start, stop or status"})
    hosts = str(params.get("hosts", "")).strip().lower()
    names = [] if hosts == "all" else [h.strip() for h in hosts.split(",") if h.strip()]
    if hosts != "all" and (not names or not all(_NAME.match(n) for n in names)):
        return _response(400, {"message": "hosts must be 'all' or a comma-separated list of lab host names"})
    ec2 = boto3.client("ec2")
    filters = [
        {"Name": f"tag:{TAG}", "Values": [os.environ["LAB_PROJECT"]]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    if names:
        filters.append({"Name": f"tag:{HOST_TAG}", "Values": names})
    found: dict[str, dict[str, Any]] = {}
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                found[tags.get(HOST_TAG, inst["InstanceId"])] = inst
    unknown = sorted(set(names) - set(found))
    if unknown:
        return _response(404, {"message": f"no lab host named {', '.join(unknown)}", "unknown": unknown})
    hosts_out = {n: {"instance": i["InstanceId"], "state": i["State"]["Name"]} for n, i in sorted(found.items())}
    if operation == "status":
        return _response(200, {"operation": operation, "hosts": hosts_out})
    todo = {n: i["InstanceId"] for n, i in found.items() if i["State"]["Name"] in _SUITABLE[operation]}
    if todo:
        call = ec2.start_instances if operation == "start" else ec2.stop_instances
        result = call(InstanceIds=sorted(todo.values()))
        changed = {c["InstanceId"]: c["CurrentState"]["Name"] for c in result.get(_RESULT_KEY[operation], [])}
        for name, iid in todo.items():
            hosts_out[name]["state"] = changed.get(iid, hosts_out[name]["state"])
    log.info("%s: %s", operation, ", ".join(sorted(todo)) or "nothing to do")
    return _response(
        200,
        {
            "operation": operation,
            "changed": sorted(todo),
            "unchanged": sorted(set(found) - set(todo)),
            "hosts": hosts_out,
        },
    )


class _Reply(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.response = _response(status, {"message": message})


def _request(event: dict[str, Any]) -> dict[str, Any]:
    """The request parameters; for a Function URL event, after checking method and token."""
    http = event.get("requestContext", {}).get("http") if event.get("version") == "2.0" else None
    if http is None:
        return dict(event)  # direct invocation: IAM authorised the caller already
    if http.get("method") not in ("GET", "POST"):
        raise _Reply(405, "use GET (query string) or POST (JSON body)")
    params: dict[str, Any] = dict(event.get("queryStringParameters") or {})
    body = event.get("body") or ""
    if event.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode("utf-8", "replace")
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = dict(urllib.parse.parse_qsl(body))
        if not isinstance(data, dict):
            raise _Reply(400, "the body must be a JSON object")
        params.update(data)
    token = str(params.pop("token", "") or (event.get("headers") or {}).get("x-lab-token", ""))
    if os.environ.get("LAB_AUTH", "secret") == "secret":
        expected = os.environ.get("LAB_TOKEN_SHA256", "")
        given = hashlib.sha256(token.encode()).hexdigest()
        if not expected or not token or not hmac.compare_digest(given, expected):
            raise _Reply(401, "missing or wrong token (x-lab-token header or token parameter)")
    return params


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
