"""S3 credentials from IAM Roles Anywhere: an X.509 certificate and its key -> temporary keys.

The viewer signs a `CreateSession` request (`POST /sessions` on `rolesanywhere.<region>.amazonaws.com`,
SigV4 with the certificate: `AWS4-X509-RSA-SHA256` or `AWS4-X509-ECDSA-SHA256`, the certificate in
`X-Amz-X509`, its serial number as the credential) with the awslabs library
`iam-rolesanywhere-session`, and gets temporary credentials for the configured role. botocore keeps
them as refreshable credentials: they are renewed 15 minutes before they expire (10 minutes at the
latest), so requests never carry expired keys.

Everything that can be checked locally is checked before the first request, each with one line:
the ARNs' shape and region (in `ViewerSettings`), a certificate that does not parse, is not yet
valid or has expired, and a private key that does not belong to the certificate. What only AWS
can say (unknown trust anchor or profile, a role the profile does not allow, a certificate the
trust anchor does not trust) comes back from CreateSession and is reported with AWS's reason.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lab.errors import ConfigError, Problem

if TYPE_CHECKING:
    from lab.settings.viewer import ViewerSettings

CERT_KEY = "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE"
KEY_KEY = "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY"
_PEM_HINT = "give the path of a PEM file, or the PEM file base64-encoded on one line (`base64 -w0 file.pem`)"


def read_pem(value: str, key: str, base: Path = Path(".")) -> bytes:
    """The PEM text `value` names: a file (relative to `base`), inline PEM, or base64 of a PEM file.

    Raises ConfigError naming `key` when it is none of those.
    """
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.replace("\\n", "\n").encode()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded.lstrip().startswith(b"-----BEGIN"):
        return decoded
    path = Path(text)
    path = path if path.is_absolute() else base / path
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(Problem(f"{key}: cannot read {path} ({exc.strerror})", _PEM_HINT)) from None
    raise ConfigError(Problem(f"{key}: no file {path} and not base64-encoded PEM", _PEM_HINT))


def load_identity(settings: ViewerSettings, base: Path = Path("."), now: datetime | None = None) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM), checked: valid now, RSA or EC, key matching the certificate."""
    now = now or datetime.now(UTC)
    cert_pem = read_pem(settings.ra_certificate, CERT_KEY, base)
    key_pem = read_pem(settings.ra_private_key, KEY_KEY, base)
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise ConfigError(Problem(f"{CERT_KEY} is not a PEM X.509 certificate", _PEM_HINT)) from None
    renew = "issue a new certificate from the trust anchor's CA"
    if now < cert.not_valid_before_utc:
        when = cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
        raise ConfigError(Problem(f"{CERT_KEY} is not valid before {when}", f"check the clock, or {renew}"))
    if now > cert.not_valid_after_utc:
        when = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
        raise ConfigError(Problem(f"{CERT_KEY} expired on {when}", renew))
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            Problem(f"{KEY_KEY} is not an unencrypted PEM private key", f"{_PEM_HINT}; decrypt it first")
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(
            Problem(f"{KEY_KEY} is neither an RSA nor an EC key", "Roles Anywhere signs with RSA or ECDSA")
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, public)
    theirs = cert.public_key().public_bytes(serialization.Encoding.DER, public)
    if mine != theirs:
        raise ConfigError(
            Problem(
                f"{KEY_KEY} does not belong to {CERT_KEY} (their public keys differ)",
                "use the key the certificate was issued for",
            )
        )
    return cert_pem, key_pem


def credentials(settings: ViewerSettings, base: Path = Path(".")) -> DeferredRefreshableCredentials:
    """Refreshable credentials for `settings.ra_role_arn`; nothing is requested until first use."""
    from iam_rolesanywhere_session import IAMRolesAnywhereSession

    cert_pem, key_pem = load_identity(settings, base)
    region = settings.ra_trust_anchor_arn.split(":")[3]
    session = IAMRolesAnywhereSession(
        profile_arn=settings.ra_profile_arn,
        role_arn=settings.ra_role_arn,
        trust_anchor_arn=settings.ra_trust_anchor_arn,
        certificate=cert_pem,
        private_key=key_pem,
        region=region,
        session_duration=settings.ra_session_seconds,
        endpoint=settings.ra_endpoint.removeprefix("https://") or None,
        verify=settings.s3_ca_bundle or True,
    )
    creds: DeferredRefreshableCredentials = session.get_refreshable_credentials()
    return creds


class RolesAnywhereProvider(CredentialProvider):  # type: ignore[misc]
    """A botocore credential provider answering with Roles Anywhere credentials (first in the chain)."""

    METHOD = "iam-roles-anywhere"
    CANONICAL_NAME = "IamRolesAnywhere"

    def __init__(self, creds: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._creds = creds

    def load(self) -> DeferredRefreshableCredentials:
        return self._creds


def explain(exc: Exception) -> str:
    """One line for a failed CreateSession (no secrets: AWS's reason and what to check)."""
    status = getattr(exc, "status_code", 0)
    reason = str(getattr(exc, "message", "") or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    check = {
        403: "check that the certificate was issued by the trust anchor's CA and that the profile allows the role",
        404: "check the trust anchor and profile ARNs",
    }.get(status, "check the VIEWER_S3_ROLES_ANYWHERE_* keys")
    where = f" (HTTP {status})" if status else ""
    return f"IAM Roles Anywhere refused the session{where}: {reason}; {check}"
