"""okta-lab's MFA step for FreeRADIUS (rlm_python3): the offline stand-in for Okta's challenge.

After the directory has accepted the password, `authenticate` answers Access-Challenge with a
Reply-Message listing the factors; the client sends the choice as User-Password with our State;
then it asks for the code, and a valid TOTP (RFC 6238, 30 s steps, 6 digits, HMAC-SHA1, one step
of clock drift either way) gets Access-Accept. A wrong code, an expired or forged State, or three
invalid choices get Access-Reject. As with Okta, a PAP-only client (a VPN) may send
"password,CODE" in one request: the site splits the code off into Tmp-String-0, and a valid code
gets Access-Accept without a challenge.

State is stateless and signed (HMAC-SHA256, key derived from RADIUS_TOTP_KEY): version, stage,
bad-choice count, issue time, nonce and a MAC over those and the user name, so any server thread
(or a restarted server) can continue a challenge, and a State cannot be moved to another user.
Each user's TOTP secret is derived from RADIUS_TOTP_KEY exactly as `lab.radius.otp.user_secret`
does, so `lab radius otp USER` shows the code this module expects. A code is accepted once.

This file runs inside radiusd's embedded Python and imports only the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import threading
import time

try:
    import radiusd  # provided by rlm_python3 inside the server
except ImportError:  # unit tests import this file directly
    radiusd = None

RLM_MODULE_REJECT, RLM_MODULE_OK, RLM_MODULE_HANDLED = 0, 2, 3

VERSION = 1
STAGE_FACTOR, STAGE_CODE = 1, 2
MAX_BAD_CHOICES = 3
#: (answer, name shown) of the factors offered; the lab offers the one it can check offline.
FACTORS = (("1", "Authenticator app code (TOTP, `lab radius otp USER`)"),)
FACTOR_PROMPT = "MFA required. Choose a factor by number:\n" + "\n".join(f"{n} - {name}" for n, name in FACTORS)
CODE_PROMPT = "Enter the 6-digit code from your authenticator app"
_HEAD = struct.Struct("!BBBI8s")  # version, stage, bad choices, issued (unix s), nonce
_MAC_LEN = 16

_key = b""
_ttl = 300
_used: dict[tuple[str, int], float] = {}
_lock = threading.Lock()


def instantiate(_config: object = None) -> int:
    """Read RADIUS_TOTP_KEY (required) and RADIUS_CHALLENGE_TTL (seconds a State is valid)."""
    global _key, _ttl
    key = os.environ.get("RADIUS_TOTP_KEY", "")
    if len(key) < 16:
        _log("RADIUS_TOTP_KEY is missing or shorter than 16 characters")
        return 1  # RLM_MODULE_FAIL: the server refuses to start
    _key = key.encode()
    _ttl = int(os.environ.get("RADIUS_CHALLENGE_TTL", "300"))
    return 0


def user_secret(key: bytes, user: str) -> bytes:
    """The raw 20-byte TOTP key of `user` (base32 of it is what `lab radius otp` shares)."""
    return hmac.new(key, user.strip().lower().encode(), hashlib.sha1).digest()


def totp(secret: bytes, counter: int) -> str:
    """RFC 4226 §5.3 HOTP of `counter` (RFC 6238 §4: counter = unix time // 30), 6 digits."""
    mac = hmac.new(secret, struct.pack("!Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack("!I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def check_code(key: bytes, user: str, code: str, now: float) -> bool:
    """True once for a code of the current step or one step either side; a reused code is False."""
    code = code.strip()
    if len(code) != 6 or not code.isdigit():
        return False
    secret = user_secret(key, user)
    step = int(now // 30)
    for counter in (step, step - 1, step + 1):
        if hmac.compare_digest(totp(secret, counter), code):
            with _lock:
                for old in [k for k, t in _used.items() if t < now - 120]:
                    del _used[old]
                mark = (user.strip().lower(), counter)
                if mark in _used:
                    return False
                _used[mark] = now
            return True
    return False


def _state_key(key: bytes) -> bytes:
    return hmac.new(key, b"okta-lab radius state v1", hashlib.sha256).digest()


def make_state(key: bytes, user: str, stage: int, bad: int, now: float) -> bytes:
    head = _HEAD.pack(VERSION, stage, bad, int(now), os.urandom(8))
    mac = hmac.new(_state_key(key), head + user.strip().lower().encode(), hashlib.sha256).digest()
    return head + mac[:_MAC_LEN]


def open_state(key: bytes, user: str, state: bytes, now: float) -> tuple[int, int] | None:
    """(stage, bad choices) of a State this server issued to `user` within the TTL, else None."""
    if len(state) != _HEAD.size + _MAC_LEN:
        return None
    head, mac = state[: _HEAD.size], state[_HEAD.size :]
    want = hmac.new(_state_key(key), head + user.strip().lower().encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want[:_MAC_LEN]):
        return None
    version, stage, bad, issued, _nonce = _HEAD.unpack(head)
    if version != VERSION or not (issued - 5 <= now <= issued + _ttl):
        return None
    return stage, bad


def decide(key: bytes, attrs: dict[str, str], now: float) -> tuple[int, tuple, tuple]:  # type: ignore[type-arg]
    """The module's answer: (rcode, reply attributes, control attributes) for one request."""
    user = attrs.get("User-Name", "")
    raw_state = attrs.get("State")
    if raw_state is None:  # the directory accepted the password
        inline = attrs.get("Tmp-String-0")  # "password,CODE": the site split the code off
        if inline is not None:
            if check_code(key, user, inline, now):
                return RLM_MODULE_OK, (("Reply-Message", f"Welcome, {user}"),), ()
            return _reject("Authentication failed: the code is wrong or was already used")
        return _challenge(key, user, STAGE_FACTOR, 0, FACTOR_PROMPT, now)
    opened = open_state(key, user, _octets(raw_state), now)
    if opened is None:
        return _reject("The MFA session expired or is not valid; sign in again")
    stage, bad = opened
    answer = attrs.get("User-Password", "").strip()
    if stage == STAGE_FACTOR:
        if answer in {n for n, _ in FACTORS}:
            return _challenge(key, user, STAGE_CODE, 0, CODE_PROMPT, now)
        if bad + 1 >= MAX_BAD_CHOICES:
            return _reject("Too many invalid choices")
        return _challenge(key, user, STAGE_FACTOR, bad + 1, f"{answer!r} is not a choice.\n{FACTOR_PROMPT}", now)
    if stage == STAGE_CODE and check_code(key, user, answer, now):
        return RLM_MODULE_OK, (("Reply-Message", f"Welcome, {user}"),), ()
    return _reject("Authentication failed: the code is wrong or was already used")


def _challenge(key: bytes, user: str, stage: int, bad: int, prompt: str, now: float) -> tuple[int, tuple, tuple]:  # type: ignore[type-arg]
    state = make_state(key, user, stage, bad, now)
    reply = (("Reply-Message", prompt), ("State", "0x" + state.hex()))
    return RLM_MODULE_HANDLED, reply, (("Response-Packet-Type", "Access-Challenge"),)


def _reject(message: str) -> tuple[int, tuple, tuple]:  # type: ignore[type-arg]
    return RLM_MODULE_REJECT, (("Reply-Message", message),), ()


def _octets(value: str) -> bytes:
    """rlm_python3 passes octets as '0x…' hex; anything else is taken as the bytes themselves."""
    if value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return b""
    return value.encode()


def authenticate(p: tuple) -> tuple[int, tuple, tuple]:  # type: ignore[type-arg]
    """rlm_python3 entry point: `p` is the request's (attribute, value) pairs."""
    attrs: dict[str, str] = {}
    for name, value in p:
        attrs.setdefault(name, value)
    result = decide(_key, attrs, time.time())
    _log(f"mfa: {attrs.get('User-Name', '')!r}: {('reject', '', 'accept', 'challenge')[result[0]]}")
    return result


def _log(message: str) -> None:
    if radiusd is not None:
        radiusd.radlog(radiusd.L_INFO, message)
