"""IAM Roles Anywhere settings: each wrong ARN, an incomplete set, mixed regions, or static keys
beside it is one clear problem naming the key, before anything starts."""

from __future__ import annotations

import pytest

from lab.errors import ConfigError
from lab.viewer.settings import load_settings

ANCHOR = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/6a3d0f2e-1c2b-4a5d-9e8f-0123456789ab"
PROFILE = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/0b0e1e5a-1111-4222-8333-444455556666"
ROLE = "arn:aws:iam::123456789012:role/okta-lab-viewer"
BASE = {"VIEWER_ADMIN_PASSWORD": "x" * 20, "VIEWER_SESSION_SECRET": "y" * 48}
FULL = {
    **BASE,
    "VIEWER_STORAGE": "s3",
    "VIEWER_S3_BUCKET": "rec",
    "VIEWER_S3_ROLES_ANYWHERE_TRUST_ANCHOR_ARN": ANCHOR,
    "VIEWER_S3_ROLES_ANYWHERE_PROFILE_ARN": PROFILE,
    "VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN": ROLE,
    "VIEWER_S3_ROLES_ANYWHERE_CERTIFICATE": "/etc/okta-lab/viewer.pem",
    "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY": "/etc/okta-lab/viewer.key",
}


def problems(values: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_settings(None, values)
    return [f"{p.what}; {p.hint}" for p in err.value.problems]


def test_complete_set_is_accepted() -> None:
    s = load_settings(None, FULL)
    assert s.roles_anywhere and s.ra_session_seconds == 3600
    assert not load_settings(None, BASE).roles_anywhere


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "VIEWER_S3_ROLES_ANYWHERE_TRUST_ANCHOR_ARN",
            PROFILE,
            "is not a Roles Anywhere trust anchor ARN; use arn:aws:",
        ),
        ("VIEWER_S3_ROLES_ANYWHERE_PROFILE_ARN", ANCHOR, "is not a Roles Anywhere profile ARN; use arn:aws:"),
        ("VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN", "okta-lab-viewer", "is not an IAM role ARN; use arn:aws:iam::"),
        ("VIEWER_S3_ROLES_ANYWHERE_ENDPOINT", "http://127.0.0.1:9", "is not an https:// host"),
        ("VIEWER_S3_ROLES_ANYWHERE_SESSION_SECONDS", "60", "VIEWER_S3_ROLES_ANYWHERE_SESSION_SECONDS='60' is invalid"),
    ],
)
def test_each_wrong_value_is_named(key: str, value: str, expected: str) -> None:
    [line] = problems({**FULL, key: value})
    assert line.startswith(key) and expected in line


def test_incomplete_set_names_what_is_missing() -> None:
    values = {**FULL, "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY": "", "VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN": ""}
    [line] = problems(values)
    assert line.startswith("the IAM Roles Anywhere keys go together: VIEWER_S3_ROLES_ANYWHERE_ROLE_ARN, ")
    assert "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY are empty" in line


def test_regions_must_agree() -> None:
    [line] = problems({**FULL, "VIEWER_S3_ROLES_ANYWHERE_PROFILE_ARN": PROFILE.replace("eu-west-1", "us-east-2")})
    assert "trust anchor is in eu-west-1 but the profile in us-east-2" in line


def test_not_together_with_static_keys() -> None:
    values = {**FULL, "VIEWER_S3_ACCESS_KEY_ID": "AKIA", "VIEWER_S3_SECRET_ACCESS_KEY": "s" * 20}
    [line] = problems(values)
    assert "are both set; keep one" in line


def test_the_private_key_is_redacted() -> None:
    from lab.settings.viewer import ViewerSettings

    assert "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY" in ViewerSettings.secret_keys()
    assert "VIEWER_S3_ROLES_ANYWHERE_PRIVATE_KEY" not in ViewerSettings.secret_keys(generated_only=True)
