"""RadiusSettings: defaults, the generated secret, and bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lab.settings.radius import RadiusSettings


def test_defaults_and_secret_is_generated() -> None:
    s = RadiusSettings.model_validate({"RADIUS_SECRET": "s" * 24})
    assert (s.port, s.timeout, s.max_rounds) == (1812, 60, 5)
    assert RadiusSettings.secret_keys(generated_only=True) == {"RADIUS_SECRET": 24}


@pytest.mark.parametrize(
    "values",
    [
        {"RADIUS_SECRET": "short"},
        {"RADIUS_SECRET": "s" * 24, "RADIUS_PORT": "0"},
        {"RADIUS_SECRET": "s" * 24, "RADIUS_TIMEOUT": "0"},
        {"RADIUS_SECRET": "s" * 24, "RADIUS_MAX_ROUNDS": "21"},
    ],
)
def test_bad_values_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        RadiusSettings.model_validate(values)
