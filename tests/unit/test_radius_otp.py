"""lab.radius.otp against the RFC 6238 reference behaviour of pyotp."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

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


def _lab(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lab", "-C", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("user", ["nobody@galaxy.local", "luke.skywalker", "luke.skywalker@galaxy.locale"])
def test_otp_of_a_user_outside_the_company_is_one_line_and_exit_2(tmp_path: Path, user: str) -> None:
    assert _lab(tmp_path, "init").returncode == 0
    proc = _lab(tmp_path, "radius", "otp", user)
    assert proc.returncode == 2 and proc.stdout == "" and len(proc.stderr.splitlines()) == 1
    assert "is not a user of LAB_COMPANY" in proc.stderr and "--any" in proc.stderr
    anyway = _lab(tmp_path, "radius", "otp", "--any", user)
    assert anyway.returncode == 0 and re.fullmatch(r"\d{6}\n", anyway.stdout)


def test_otp_of_a_sample_user_is_case_blind(tmp_path: Path) -> None:
    assert _lab(tmp_path, "init").returncode == 0
    env = dict(line.partition("=")[::2] for line in (tmp_path / ".env").read_text().splitlines())
    key = env["RADIUS_TOTP_KEY"]
    for user in ("luke.skywalker@galaxy.local", "LUKE.Skywalker@Galaxy.local"):
        before = time.time()
        out = _lab(tmp_path, "radius", "otp", user).stdout.strip()
        assert out in {current_code(key, "luke.skywalker@galaxy.local", at=t) for t in (before, time.time())}
