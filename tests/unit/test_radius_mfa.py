"""The MFA step FreeRADIUS runs (compose/radius/lab_mfa.py), outside the server."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from lab import RESOURCES
from lab.radius import otp

KEY = "k" * 32
USER = "luke.skywalker@galaxy.local"
NOW = 1_800_000_000.0


@pytest.fixture()
def mfa() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lab_mfa", RESOURCES / "compose" / "radius" / "lab_mfa.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("lab_mfa", None)
    spec.loader.exec_module(module)
    return module


def _state(reply: tuple) -> str:  # type: ignore[type-arg]
    return dict(reply)["State"]


def test_codes_match_lab_radius_otp(mfa: ModuleType) -> None:
    for at in (NOW, NOW + 30, 59.0):
        want = otp.current_code(KEY, USER, at=at)
        assert mfa.totp(mfa.user_secret(KEY.encode(), USER), int(at // 30)) == want
    # user names compare case-blind on both sides
    assert mfa.user_secret(KEY.encode(), USER.upper()) == mfa.user_secret(KEY.encode(), USER)


def test_rfc_6238_vector(mfa: ModuleType) -> None:
    # RFC 6238 appendix B, SHA-1, T=59: 94287082 (8 digits) -> the last 6 are 287082
    assert mfa.totp(b"12345678901234567890", 59 // 30) == "287082"


def test_factor_then_code_then_accept(mfa: ModuleType) -> None:
    key = KEY.encode()
    rcode, reply, control = mfa.decide(key, {"User-Name": USER, "User-Password": "pw"}, NOW)
    assert rcode == mfa.RLM_MODULE_HANDLED and control == (("Response-Packet-Type", "Access-Challenge"),)
    assert "1 - " in dict(reply)["Reply-Message"]
    rcode, reply, _ = mfa.decide(key, {"User-Name": USER, "User-Password": "1", "State": _state(reply)}, NOW)
    assert rcode == mfa.RLM_MODULE_HANDLED and "code" in dict(reply)["Reply-Message"]
    code = otp.current_code(KEY, USER, at=NOW)
    attrs = {"User-Name": USER, "User-Password": code, "State": _state(reply)}
    rcode, reply, _ = mfa.decide(key, attrs, NOW)
    assert rcode == mfa.RLM_MODULE_OK
    # the same code again, even with a fresh State, is refused (accepted once)
    assert mfa.decide(key, attrs, NOW)[0] == mfa.RLM_MODULE_REJECT


def test_wrong_code_rejected(mfa: ModuleType) -> None:
    key = KEY.encode()
    state = mfa.make_state(key, USER, mfa.STAGE_CODE, 0, NOW)
    attrs = {"User-Name": USER, "User-Password": "000000", "State": "0x" + state.hex()}
    if otp.current_code(KEY, USER, at=NOW) == "000000":  # pragma: no cover - one in a million
        pytest.skip("the real code is 000000")
    assert mfa.decide(key, attrs, NOW)[0] == mfa.RLM_MODULE_REJECT


@pytest.mark.parametrize("why", ["other user", "expired", "forged", "garbage"])
def test_bad_state_rejected(mfa: ModuleType, why: str) -> None:
    key = KEY.encode()
    state = mfa.make_state(key, USER, mfa.STAGE_FACTOR, 0, NOW)
    user, now = USER, NOW
    if why == "other user":
        user = "darth.vader@galaxy.local"
    elif why == "expired":
        now = NOW + 301
    elif why == "forged":
        state = state[:-1] + bytes([state[-1] ^ 1])
    else:
        state = b"nope"
    rcode, reply, _ = mfa.decide(key, {"User-Name": user, "User-Password": "1", "State": "0x" + state.hex()}, now)
    assert rcode == mfa.RLM_MODULE_REJECT and "sign in again" in dict(reply)["Reply-Message"]


def test_three_invalid_choices_reject(mfa: ModuleType) -> None:
    key = KEY.encode()
    _, reply, _ = mfa.decide(key, {"User-Name": USER, "User-Password": "pw"}, NOW)
    for _ in range(2):
        rcode, reply, _ = mfa.decide(key, {"User-Name": USER, "User-Password": "9", "State": _state(reply)}, NOW)
        assert rcode == mfa.RLM_MODULE_HANDLED and "not a choice" in dict(reply)["Reply-Message"]
    rcode, reply, _ = mfa.decide(key, {"User-Name": USER, "User-Password": "9", "State": _state(reply)}, NOW)
    assert rcode == mfa.RLM_MODULE_REJECT


def test_instantiate_needs_the_key(mfa: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RADIUS_TOTP_KEY", raising=False)
    assert mfa.instantiate() == 1
    monkeypatch.setenv("RADIUS_TOTP_KEY", KEY)
    assert mfa.instantiate() == 0


def test_password_comma_code_in_one_request(mfa: ModuleType) -> None:
    key = KEY.encode()
    code = otp.current_code(KEY, USER, at=NOW)
    attrs = {"User-Name": USER, "User-Password": "pw", "Tmp-String-0": code}
    assert mfa.decide(key, attrs, NOW)[0] == mfa.RLM_MODULE_OK
    assert mfa.decide(key, attrs, NOW)[0] == mfa.RLM_MODULE_REJECT  # once only
