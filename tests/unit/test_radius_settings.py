"""RadiusSettings: defaults, the generated secrets, and bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lab.settings.radius import RadiusSettings

SECRETS = {"RADIUS_SECRET": "s" * 16, "RADIUS_TOTP_KEY": "k" * 32}


def test_defaults_and_secrets_are_generated() -> None:
    s = RadiusSettings.model_validate(SECRETS)
    assert (s.port, s.timeout, s.max_rounds) == (1812, 60, 5)
    assert RadiusSettings.secret_keys(generated_only=True) == {"RADIUS_SECRET": 16, "RADIUS_TOTP_KEY": 32}


@pytest.mark.parametrize(
    "values",
    [
        {**SECRETS, "RADIUS_SECRET": "short"},
        {**SECRETS, "RADIUS_TOTP_KEY": "short"},
        {**SECRETS, "RADIUS_PORT": "0"},
        {**SECRETS, "RADIUS_TIMEOUT": "0"},
        {**SECRETS, "RADIUS_MAX_ROUNDS": "21"},
    ],
)
def test_bad_values_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        RadiusSettings.model_validate(values)
