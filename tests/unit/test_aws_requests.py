"""Request shapes where moto stores without checking: botocore's Stubber asserts what is sent.

moto accepts a Function URL permission without checking `FunctionUrlAuthType`/
`InvokedViaFunctionUrl`, and does not evaluate IAM conditions; the caller-address lookup is an
HTTPS GET, served here by a local HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from lab.aws import AwsLab
from lab.aws.client import Aws
from lab.aws.deploy import _ensure_url
from lab.aws.hosts import lookup_address
from lab.context import LabContext
from lab.errors import ConfigError
from lab.settings.aws import AwsSettings


@pytest.fixture
def stubbed(tmp_path: Path) -> Iterator[tuple[AwsLab, Stubber]]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-south-1")
    aws = Aws(region="eu-south-1", session=session)
    client = aws.client("lambda")
    with Stubber(client) as stub:
        yield AwsLab(LabContext(root=tmp_path), AwsSettings(), "awstest", aws), stub
        stub.assert_no_pending_responses()


def test_public_url_grants_both_invoke_permissions(stubbed: tuple[AwsLab, Stubber]) -> None:
    lab, stub = stubbed
    fn = "okta-lab-awstest-power"
    url = "https://abc.lambda-url.eu-south-1.on.aws/"
    stub.add_response(
        "get_function_url_config",
        {"FunctionUrl": url, "FunctionArn": "arn:aws:lambda:eu-south-1:1:function:f", "AuthType": "NONE",
         "CreationTime": "t", "LastModifiedTime": "t"},
        {"FunctionName": fn},
    )  # fmt: skip
    stub.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": fn,
            "StatementId": "url",
            "Action": "lambda:InvokeFunctionUrl",
            "Principal": "*",
            "FunctionUrlAuthType": "NONE",
        },
    )
    stub.add_client_error("add_permission", "ResourceConflictException", expected_params=None)  # granted before
    assert _ensure_url(lab, fn, "NONE") == url


def test_iam_url_drops_the_public_permissions(stubbed: tuple[AwsLab, Stubber]) -> None:
    lab, stub = stubbed
    fn = "okta-lab-awstest-power"
    url = "https://abc.lambda-url.eu-south-1.on.aws/"
    stub.add_response(
        "get_function_url_config",
        {"FunctionUrl": url, "FunctionArn": "a", "AuthType": "NONE", "CreationTime": "t", "LastModifiedTime": "t"},
        {"FunctionName": fn},
    )
    stub.add_response(
        "update_function_url_config",
        {"FunctionUrl": url, "FunctionArn": "a", "AuthType": "AWS_IAM", "CreationTime": "t", "LastModifiedTime": "t"},
        {"FunctionName": fn, "AuthType": "AWS_IAM"},
    )
    for sid in ("url", "url-invoke"):
        stub.add_response("remove_permission", {}, {"FunctionName": fn, "StatementId": sid})
    assert _ensure_url(lab, fn, "AWS_IAM") == url


class _CheckIp(http.server.BaseHTTPRequestHandler):
    answer = b"203.0.113.9\n"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args: object) -> None:
        pass


def test_caller_address_lookup() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _CheckIp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        assert lookup_address(url) == "203.0.113.9/32"
        _CheckIp.answer = b"<html>captive portal</html>"
        with pytest.raises(ConfigError, match="--ssh-from"):
            lookup_address(url)
    finally:
        server.shutdown()
