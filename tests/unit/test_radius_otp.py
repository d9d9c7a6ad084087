"""lab.radius.otp against the RFC 6238 reference behaviour of pyotp."""

from __future__ import annotations

import pyotp

from lab.radius.otp import current_code, user_secret, verify_code

KEY = "k" * 32
T = 1_800_000_000.0


def test_secret_is_stable_per_user_and_differs_between_users() -> None:
    a = user_secret(KEY, "luke.skywalker@galaxy.local")
    assert a == user_secret(KEY, " Luke.Skywalker@galaxy.local ")
    assert a != user_secret(KEY, "leia.organa@galaxy.local")
    assert a != user_secret("other" * 8, "luke.skywalker@galaxy.local")
    assert len(a) == 32


def test_code_matches_an_authenticator_app() -> None:
    user = "luke.skywalker@galaxy.local"
    app = pyotp.TOTP(user_secret(KEY, user))
    assert current_code(KEY, user, at=T) == app.at(T)
    assert verify_code(KEY, user, app.at(T - 30), at=T)
    assert not verify_code(KEY, user, app.at(T - 90), at=T)
    assert not verify_code(KEY, "leia.organa@galaxy.local", app.at(T), at=T)
