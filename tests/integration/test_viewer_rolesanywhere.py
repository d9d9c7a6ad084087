"""S3 through IAM Roles Anywhere, against a fake CreateSession endpoint served here on 127.0.0.1.

The fake checks each request the way the service documents it: HTTPS `POST /sessions`, the
`AWS4-X509-{RSA,ECDSA}-SHA256` SigV4 signature verified with the public key of the certificate
sent in `X-Amz-X509`, the certificate's serial number as the credential, a fresh `X-Amz-Date`,
a certificate issued by the trust anchor's CA and still valid, and the trust anchor, profile and
role it knows. Only then does it issue temporary keys; the S3 requests (moto, also on 127.0.0.1)
must carry exactly those. The canonical request is rebuilt here independently of the client.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from moto.server import ThreadedMotoServer

from lab.errors import ConfigError
from lab.settings.viewer import ViewerSettings
from lab.viewer.index import RecordingIndex
from lab.viewer.s3 import S3Storage
from lab.viewer.storage import StorageError, open_storage

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ANCHOR = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/6a3d0f2e-1c2b-4a5d-9e8f-0123456789ab"
PROFILE = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/0b0e1e5a-1111-4222-8333-444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/okta-lab-viewer"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/not-in-profile"
BUCKET = "ra-recordings"
KEYS = ("ssh~20260313T112035.8319~t~p~s~u~a.cast", "ssh~20260313T112036.1~t~p~s~u~b.cast")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a small PKI: the trust anchor's CA, leaf certificates, the fake's TLS certificate ---------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: Any,
    issuer: tuple[x509.Name, Any] | None = None,
    *,
    ca: bool = False,
    start: datetime | None = None,
    days: int = 30,
    ip: bool = False,
) -> x509.Certificate:
    start = start or datetime.now(UTC) - timedelta(hours=1)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Pki:
    dir: Path
    ca: x509.Certificate
    files: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("okta-lab test trust anchor", ca_key, ca=True, days=365)
    issuer = (ca.subject, ca_key)
    out = Pki(d, ca)

    def write(name: str, data: bytes) -> None:
        (d / name).write_bytes(data)
        out.files[name] = d / name

    write("ca.pem", _pem(ca))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("rsa.pem", _pem(_cert("viewer-rsa", rsa_key, issuer)))
    write("rsa.key", _key_pem(rsa_key))
    ec_key = ec.generate_private_key(ec.SECP384R1())
    write("ec.pem", _pem(_cert("viewer-ec", ec_key, issuer)))
    write("ec.key", _key_pem(ec_key))
    old = datetime.now(UTC) - timedelta(days=40)
    write("expired.pem", _pem(_cert("viewer-expired", ec_key, issuer, start=old, days=10)))
    write("future.pem", _pem(_cert("viewer-future", ec_key, issuer, start=datetime.now(UTC) + timedelta(days=2))))
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    write("untrusted.pem", _pem(_cert("viewer-untrusted", ec_key, (_name("another CA"), stranger_key))))
    tls_key = ec.generate_private_key(ec.SECP256R1())
    write("tls.pem", _pem(_cert("127.0.0.1", tls_key, issuer, ip=True)))
    write("tls.key", _key_pem(tls_key))
    write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    return out


# -- the fake CreateSession endpoint ------------------------------------------------------------


@dataclass
class Fake:
    url: str
    lifetime: timedelta = timedelta(hours=1)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # one per request: verdict and details
    tokens: list[str] = field(default_factory=list)


def _verify(fake: Fake, ca: x509.Certificate, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """'' when the request is correctly signed with a trusted certificate, else the reason."""
    auth = headers.get("authorization", "")
    m = re.fullmatch(
        r"(AWS4-X509-(RSA|ECDSA)-SHA256) Credential=(\d+)/(\d{8})/([a-z0-9-]+)/rolesanywhere/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]+)",
        auth,
    )
    if method != "POST" or path != "/sessions" or not m:
        return "malformed request or Authorization header"
    algorithm, family, serial, day, region, signed, signature = m.groups()
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(headers.get("x-amz-x509", ""), validate=True))
    except ValueError:
        return "X-Amz-X509 is not a certificate"
    if int(serial) != cert.serial_number:
        return "credential is not the certificate's serial number"
    names = signed.split(";")
    if not {"host", "x-amz-date", "x-amz-x509"} <= set(names) or names != sorted(names):
        return "signed headers incomplete or unsorted"
    stamp = headers.get("x-amz-date", "")
    when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if abs(datetime.now(UTC) - when) > timedelta(minutes=5) or stamp[:8] != day or region != REGION:
        return "stale date or wrong scope"
    canonical = "\n".join(
        [
            "POST",
            "/sessions",
            "",
            "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in names),
            signed,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/rolesanywhere/aws4_request"
    to_sign = f"{algorithm}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}".encode()
    public = cert.public_key()
    try:
        if family == "RSA" and isinstance(public, rsa.RSAPublicKey):
            public.verify(bytes.fromhex(signature), to_sign, padding.PKCS1v15(), hashes.SHA256())
        elif family == "ECDSA" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(bytes.fromhex(signature), to_sign, ec.ECDSA(hashes.SHA256()))
        else:
            return "algorithm does not match the certificate's key"
    except InvalidSignature:
        return "signature does not verify"
    ca_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePublicKey)
    try:
        ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        trusted = cert.issuer == ca.subject
    except InvalidSignature:
        trusted = False
    if not trusted:
        return "Untrusted signing certificate"
    if not cert.not_valid_before_utc <= datetime.now(UTC) <= cert.not_valid_after_utc:
        return "Certificate is not valid now"
    return ""


@pytest.fixture(scope="module")
def fake(pki: Pki) -> Iterator[Fake]:
    port = free_port()
    state = Fake(f"https://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reason = _verify(state, pki.ca, "POST", self.path, headers, body)
            request = json.loads(body or b"{}")
            record = {"reason": reason, "algorithm": headers.get("authorization", "").split(" ")[0], **request}
            state.sessions.append(record)
            if reason:
                return self._answer(403, {"message": reason})
            if request.get("trustAnchorArn") != ANCHOR:
                return self._answer(404, {"message": "Trust anchor not found"})
            if request.get("profileArn") != PROFILE:
                return self._answer(404, {"message": "Profile not found"})
            if request.get("roleArn") != ROLE:
                return self._answer(403, {"message": "Role is not allowed by the profile"})
            token = f"session-token-{len(state.tokens) + 1}"
            state.tokens.append(token)
            expiry = (datetime.now(UTC) + state.lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
            creds = {"accessKeyId": "ASIAFAKE", "secretAccessKey": "fake-secret", "sessionToken": token}
            self._answer(201, {"credentialSet": [{"credentials": {**creds, "expiration": expiry}}]})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(pki.files["tls.pem"], pki.files["tls.key"])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b'{"version": 2}\n')
    yield url
    server.stop()


def settings(pki: Pki, fake: Fake, s3_url: str, **over: str) -> ViewerSettings:
    values = {
        "VIEWER_ADMIN_PASSWORD": "ra-test-password",
        "VIEWER_SESSION_SECRET": "r" * 48,
        "VIEWER_STORAGE": "s3",
        "VIEWER_S3_BUCKET": BUCKET,
        "VIEWER_S3_REGION": REGION,
        "VIEWER_S3_ENDPOINT_URL": s3_url,
        "VIEWER_S3_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": ANCHOR,
        "VIEWER_S3_ROLES_ANYWHERE_PROFILE_ARN": PROFILE,
        "VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN": ROLE,
        "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE": str(pki.files["ec.pem"]),
        "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY": str(pki.files["ec.key"]),
        "VIEWER_S3_ROLES_ANYWHERE_ENDPOINT": fake.url,
        "VIEWER_S3_CA_BUNDLE": str(pki.files["ca.pem"]),
    }
    return ViewerSettings.model_validate({**values, **over})


def tokens_sent(store: S3Storage) -> list[str]:
    """Record the session token of every S3 request the client sends from now on."""
    seen: list[str] = []

    def before_send(request: Any, **kw: Any) -> None:
        seen.append(str(request.headers.get("X-Amz-Security-Token", b""), "ascii", "replace"))

    store.client.meta.events.register("before-send.s3", before_send)
    return seen


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_lists_the_bucket_with_temporary_credentials(kind: str, pki: Pki, fake: Fake, s3_url: str) -> None:
    cfg = settings(
        pki,
        fake,
        s3_url,
        VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE=str(pki.files[f"{kind}.pem"]),
        # the key inline, base64 on one line, as an env file can carry it
        VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY=base64.b64encode(pki.files[f"{kind}.key"].read_bytes()).decode(),
    )
    before = len(fake.sessions)
    store = open_storage(cfg)
    assert isinstance(store, S3Storage)
    sent = tokens_sent(store)
    index = RecordingIndex(store)
    index.refresh_now()
    assert not index.snapshot.error
    assert sorted(r.id for r in index.snapshot.recordings) == sorted(KEYS)
    new = fake.sessions[before:]
    assert [s["reason"] for s in new] == [""], new
    assert new[0]["algorithm"] == ("AWS4-X509-RSA-SHA256" if kind == "rsa" else "AWS4-X509-ECDSA-SHA256")
    assert new[0]["durationSeconds"] == 3600
    assert sent and set(sent) == {fake.tokens[-1]}


def test_refreshes_before_expiry_and_not_otherwise(pki: Pki, fake: Fake, s3_url: str) -> None:
    store = open_storage(settings(pki, fake, s3_url))
    assert isinstance(store, S3Storage)
    sent = tokens_sent(store)
    start = len(fake.tokens)
    for _ in range(3):
        store.check()
    assert len(fake.tokens) == start + 1  # an hour left: one session serves every request
    fake.lifetime = timedelta(minutes=12)  # inside botocore's 15-minute refresh window
    try:
        store = open_storage(settings(pki, fake, s3_url))
        assert isinstance(store, S3Storage)
        sent = tokens_sent(store)
        store.check()
        store.check()
    finally:
        fake.lifetime = timedelta(hours=1)
    assert len(fake.tokens) >= start + 3  # renewed before it expired
    assert sent[-1] == fake.tokens[-1] and len(set(sent)) >= 2


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        (
            {"VIEWER_S3_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": ANCHOR[:-2] + "00"},
            "(HTTP 404): Trust anchor not found; check the trust anchor and profile ARNs",
        ),
        (
            {"VIEWER_S3_ROLES_ANYWHERE_PROFILE_ARN": PROFILE[:-2] + "00"},
            "(HTTP 404): Profile not found",
        ),
        ({"VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN": OTHER_ROLE}, "(HTTP 403): Role is not allowed by the profile"),
        ({"VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE": "untrusted.pem"}, "(HTTP 403): Untrusted signing certificate"),
    ],
    ids=["trust-anchor", "profile", "role", "untrusted-certificate"],
)
def test_refusals_are_one_clear_line(over: dict[str, str], expected: str, pki: Pki, fake: Fake, s3_url: str) -> None:
    over = {k: (str(pki.dir / v) if v.endswith(".pem") else v) for k, v in over.items()}
    store = open_storage(settings(pki, fake, s3_url, **over))
    with pytest.raises(StorageError) as err:
        store.check()
    message = str(err.value)
    assert message.startswith("IAM Roles Anywhere refused the session ") and expected in message
    assert "\n" not in message and "fake-secret" not in message


@pytest.mark.parametrize(
    ("cert", "key", "expected"),
    [
        ("expired.pem", "ec.key", "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE expired on "),
        ("future.pem", "ec.key", "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE is not valid before "),
        ("rsa.pem", "ec.key", "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY does not belong to VIEWER_S3_ROLES_ANYWHERE_CERT"),
        ("garbage.pem", "ec.key", "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE is not a PEM X.509 certificate"),
        ("missing.pem", "ec.key", "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE: no file "),
        ("ec.pem", "ca.pem", "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY is not an unencrypted PEM private key"),
    ],
    ids=["expired", "not-yet-valid", "mismatched-key", "not-a-certificate", "no-file", "not-a-key"],
)
def test_local_problems_stop_before_any_request(
    cert: str, key: str, expected: str, pki: Pki, fake: Fake, s3_url: str
) -> None:
    before = len(fake.sessions)
    cfg = settings(
        pki,
        fake,
        s3_url,
        VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE=cert,
        VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY=key,
    )
    with pytest.raises(ConfigError) as err:
        open_storage(cfg, base=pki.dir)
    assert str(err.value.problems[0].what).startswith(expected) or expected in str(err.value)
    assert len(fake.sessions) == before


def test_unreachable_endpoint_says_so(pki: Pki, fake: Fake, s3_url: str) -> None:
    store = open_storage(
        settings(pki, fake, s3_url, VIEWER_S3_ROLES_ANYWHERE_ENDPOINT=f"https://127.0.0.1:{free_port()}")
    )
    with pytest.raises(
        StorageError, match=r"^IAM Roles Anywhere endpoint unreachable: https://127\.0\.0\.1:\d+/sessions"
    ):
        store.check()


def test_the_fake_really_checks_the_signature(pki: Pki, fake: Fake) -> None:
    """A request signed by the library verifies; the same request with its body changed does not."""
    from botocore.awsrequest import AWSRequest
    from iam_rolesanywhere_session.iam_rolesanywhere_session import IAMRolesAnywhereSigner

    signer = IAMRolesAnywhereSigner(
        certificate=pki.files["rsa.pem"].read_bytes(),
        private_key=pki.files["rsa.key"].read_bytes(),
        region=REGION,
        service_name="rolesanywhere",
    )
    body = json.dumps({"trustAnchorArn": ANCHOR}).encode()
    request = AWSRequest(method="POST", url=f"{fake.url}/sessions", data=body)
    signer.add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.setdefault("host", fake.url.removeprefix("https://"))
    assert _verify(fake, pki.ca, "POST", "/sessions", headers, body) == ""
    assert _verify(fake, pki.ca, "POST", "/sessions", headers, body + b" ") == "signature does not verify"
    other = base64.b64encode(x509.load_pem_x509_certificate(pki.files["ec.pem"].read_bytes()).public_bytes(
        serialization.Encoding.DER)).decode()  # fmt: skip
    assert _verify(fake, pki.ca, "POST", "/sessions", {**headers, "x-amz-x509": other}, body) != ""


def test_cli_exits_2_with_one_line_for_an_expired_certificate(
    pki: Pki, fake: Fake, s3_url: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    values = settings(pki, fake, s3_url).model_dump(by_alias=True)
    values["VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE"] = str(pki.files["expired.pem"])
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items() if v != ""))
    r = subprocess.run(
        [sys.executable, "-m", "lab", "-C", str(tmp_path), "viewer", "seed"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE expired on" in r.stderr and "Traceback" not in r.stderr
    assert "PRIVATE KEY" not in r.stderr + r.stdout
