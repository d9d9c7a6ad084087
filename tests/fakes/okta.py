"""A fake Okta org over HTTPS: the OAuth 2.0 token endpoint (client credentials with a
`private_key_jwt` client assertion, RFC 7523 §2.2, checked in full) and the few Management API
endpoints okta-mcp-server's user and group tools call, with Okta's `Link` pagination.

`TestCA` makes a CA and a server certificate for the fake's host name; the lab trusts the CA
through LAB_EXTRA_CA_CERTS, as it would a TLS-intercepting proxy's.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class TestCA:
    """A CA and one server certificate for `host` (and `ips`), written into `folder`."""

    __test__ = False
    folder: Path
    host: str
    ips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        ca_key, key = rsa_key(), rsa_key()
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "okta-lab test CA")])
        ca = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        names: list[x509.GeneralName] = [x509.DNSName(self.host)]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in self.ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.host)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.folder / "okta-lab-test-ca.crt"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file = self.folder / "server.crt"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file = self.folder / "server.key"
        self.key_file.write_bytes(pem(key))
        self.key_file.chmod(0o600)


def _user(n: int) -> dict[str, object]:
    first, last = f"Test{n:02d}", "Trooper"
    login = f"tk{n:03d}@galaxy.local"
    return {
        "id": f"00u{n:017d}",
        "status": "ACTIVE",
        "created": "2026-01-01T00:00:00.000Z",
        "activated": "2026-01-01T00:00:00.000Z",
        "statusChanged": "2026-01-01T00:00:00.000Z",
        "lastLogin": None,
        "lastUpdated": "2026-01-01T00:00:00.000Z",
        "passwordChanged": None,
        "type": {"id": "oty00000000000000000"},
        "profile": {"firstName": first, "lastName": last, "email": login, "login": login, "mobilePhone": None},
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {},
    }


@dataclass
class FakeOkta:
    """The fake org's state; `serve()` starts it on (`bind`, an ephemeral port) in a thread."""

    client_id: str
    key_id: str
    public_key: rsa.RSAPublicKey
    ca: TestCA
    bind: str = "127.0.0.1"
    users: list[dict[str, object]] = field(default_factory=lambda: [_user(n) for n in range(1, 26)])
    groups: list[dict[str, object]] = field(
        default_factory=lambda: [
            {
                "id": "00g000000000000001",
                "type": "OKTA_GROUP",
                "profile": {"name": "Rebels", "description": "Alliance"},
            },
            {"id": "00g000000000000002", "type": "OKTA_GROUP", "profile": {"name": "Empire", "description": ""}},
        ]
    )
    issued: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    revoked: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # why each refused client assertion was refused
    requests: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)  # why each API request was answered 401
    port: int = 0  # 0: an ephemeral one
    max_page: int = 20  # the most items a page holds, whatever `limit` asks (a server may send fewer)

    @property
    def origin(self) -> str:
        return f"https://{self.ca.host}:{self.port}"

    def revoke_all(self) -> None:
        self.revoked.update(self.issued)

    def check_assertion(self, form: dict[str, str]) -> str:
        """'' when the client assertion is what Okta accepts, else the reason."""
        if form.get("grant_type") != "client_credentials":
            return "grant_type is not client_credentials"
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "client_assertion_type is not jwt-bearer"
        token = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token, self.public_key, algorithms=["RS256"], audience=f"{self.origin}/oauth2/v1/token",
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            return f"client assertion refused: {exc}"
        if header.get("kid") != self.key_id:
            return f"kid {header.get('kid')!r} is not {self.key_id!r}"
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return "iss/sub are not the client id"
        if claims["exp"] - time.time() > 3600:
            return "exp is more than an hour away"
        return ""

    def token_problem(self, authorization: str) -> str:
        """'' when `authorization` carries a token this org issued and still honours."""
        # The Okta SDK (okta 3.4.6, okta/configuration.py auth_settings) sends "Bearer" and the token
        # with no space between them; the fake takes that form as well as RFC 6750's "Bearer <token>".
        if not authorization.startswith("Bearer"):
            return f"scheme of {authorization[:12]!r}... is not Bearer"
        token = authorization.removeprefix("Bearer")
        if token.strip() not in self.issued:
            return "unknown token"
        if token.strip() in self.revoked:
            return "revoked token"
        if self.issued[token.strip()] < time.time():
            return "expired token"
        return ""

    def serve(self) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                fake.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/oauth2/v1/token":
                    return self._send(404, {"errorCode": "E0000022", "errorSummary": "not found"})
                why = fake.check_assertion(form)
                if why:
                    fake.refused.append(why)
                    return self._send(401, {"error": "invalid_client", "error_description": why})
                exp = int(time.time()) + 3600
                token = jwt.encode(
                    {"iss": fake.origin, "aud": fake.origin, "sub": fake.client_id, "cid": fake.client_id,
                     "exp": exp, "iat": int(time.time()), "jti": secrets.token_hex(8),
                     "scp": form.get("scope", "").split()},
                    "fake-okta-signing-key-not-a-secret", algorithm="HS256",
                )  # fmt: skip
                fake.issued[token] = exp
                self._send(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token,
                                 "scope": form.get("scope", "")})  # fmt: skip

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append(f"GET {self.path}")
                auth = self.headers.get("Authorization", "")
                why = fake.token_problem(auth)
                if why:
                    fake.denied.append(why)
                    return self._send(
                        401, {"errorCode": "E0000011", "errorSummary": "Invalid token provided",
                              "errorLink": "E0000011", "errorId": "fake", "errorCauses": []},
                        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                    )  # fmt: skip
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/api/v1/users":
                    return self._page(url.path, self._filtered(query), query)
                if url.path.startswith("/api/v1/users/"):
                    wanted = url.path.rsplit("/", 1)[1]
                    found = [u for u in fake.users if wanted in (u["id"], u["profile"]["login"])]  # type: ignore[index]
                    if found:
                        return self._send(200, found[0])
                    return self._send(
                        404,
                        {"errorCode": "E0000007", "errorSummary": f"Not found: Resource not found: {wanted} (User)"},
                    )
                if url.path == "/api/v1/groups":
                    return self._page(url.path, fake.groups, query)
                self._send(404, {"errorCode": "E0000022", "errorSummary": "The endpoint does not exist."})

            def _filtered(self, query: dict[str, str]) -> list[dict[str, object]]:
                term = query.get("q", "").lower()
                return [u for u in fake.users if term in json.dumps(u["profile"]).lower()] if term else fake.users

            def _page(self, path: str, items: list[dict[str, object]], query: dict[str, str]) -> None:
                limit = min(int(query.get("limit", "200")), 200, fake.max_page)
                start = 0
                if query.get("after"):
                    ids = [str(i["id"]) for i in items]
                    start = ids.index(query["after"]) + 1 if query["after"] in ids else len(items)
                page = items[start : start + limit]
                links = [f'<{fake.origin}{path}?{urlencode({"limit": limit})}>; rel="self"']
                if start + limit < len(items):
                    after = {"after": page[-1]["id"], "limit": limit}
                    links.append(f'<{fake.origin}{path}?{urlencode(after)}>; rel="next"')
                self._send(200, page, {"Link": ", ".join(links)})

        server = ThreadingHTTPServer((self.bind, self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca.cert_file, self.ca.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
