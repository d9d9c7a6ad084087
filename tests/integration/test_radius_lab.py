"""`lab up radius` on Docker (openldap, radius, openvpn), one shared lab: `lab radius test|otp`
through the real FreeRADIUS stand-in, every bad input as one line with its exit code,
`lab verify radius` (with a real OpenVPN login), idempotence, ports on LAB_BIND."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

pytest.importorskip("pyrad")


@pytest.fixture(scope="module")
def radius_lab(make_lab: Any) -> Iterator[Any]:
    yield make_lab(["radius"], name="radiuslab")


def _user(lab: Any, uid: str = "luke.skywalker") -> str:
    return f"{uid}@{lab.cfg.ldap.mail_domain}"


def _code(lab: Any, user: str) -> str:
    """The user's current code, not late in its 30 s step. The server accepts each code once, so
    the tests that log in each use their own sample user."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    return str(lab.run("radius", "otp", user).stdout.strip())


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_radius_test_accepts_after_the_challenge(radius_lab: Any) -> None:
    code = _code(radius_lab, _user(radius_lab))
    assert len(code) == 6 and code.isdigit()
    run = radius_lab.run("radius", "test", "--user", _user(radius_lab), "--answer", "1", "--answer", code, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "MFA required" in run.stdout and "Access-Accept" in run.stdout


def test_json_shows_the_exchange_without_the_password(radius_lab: Any) -> None:
    user = _user(radius_lab, "leia.organa")
    code = _code(radius_lab, user)
    run = radius_lab.run("radius", "test", "--json", "-u", user, "-a", "1", "-a", code, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(run.stdout)
    assert [r["code"] for r in data["rounds"]] == ["Access-Challenge", "Access-Challenge", "Access-Accept"]
    assert all(r["message_authenticator"] for r in data["rounds"])
    assert radius_lab.cfg.ldap.demo_password not in run.stdout


def test_reused_code_is_rejected(radius_lab: Any) -> None:
    user = _user(radius_lab, "han.solo")
    code = _code(radius_lab, user)
    first = radius_lab.run("radius", "test", "-u", user, "--answer", "1", "--answer", code, check=False)
    again = radius_lab.run("radius", "test", "-u", user, "--answer", "1", "--answer", code, check=False)
    assert first.returncode == 0 and again.returncode == 1, again.stdout
    assert "Access-Reject" in again.stdout


@pytest.mark.parametrize(
    ("args", "rc", "words"),
    [
        (["--secret", "wrong-secret-123", "--timeout", "3", "--retransmit", "1"], 1, "secret or this client's address"),
        (["--port", "1", "--timeout", "3"], 1, "nothing listens"),
        (["--server", "no-such-host.invalid"], 2, "cannot resolve"),
        (["--answer", ""], 2, "the answer is empty"),
        (["--answer", "9", "--answer", "9", "--max-rounds", "1"], 1, "gave up after 1"),
        (["--answer", "1"], 2, "none is left"),
    ],
    ids=["wrong-secret", "unreachable", "unknown-host", "empty-answer", "too-many-rounds", "answers-run-out"],
)
def test_bad_input_is_one_line(radius_lab: Any, args: list[str], rc: int, words: str) -> None:
    run = radius_lab.run("radius", "test", *args, check=False)
    assert run.returncode == rc, run.stdout + run.stderr
    assert words in _one_error_line(run.stderr)
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("who", ["unknown-user", "wrong-password"])
def test_unknown_user_and_wrong_password_are_rejected(radius_lab: Any, who: str) -> None:
    args = ["--user", "nobody@galaxy.local"] if who == "unknown-user" else ["--password", "not-the-password"]
    run = radius_lab.run("radius", "test", *args, check=False)
    assert run.returncode == 1 and "Access-Reject" in run.stdout, run.stdout + run.stderr


def test_verify_radius_passes_with_a_real_vpn_login(radius_lab: Any) -> None:
    run = radius_lab.verify("radius")
    assert "checks passed" in run.stdout and "FAIL" not in run.stdout, run.stdout + run.stderr
    assert "test_vpn_login_works_after_radius_accept" in run.stdout.replace("\n", "")


def test_second_up_changes_nothing(radius_lab: Any) -> None:
    import docker

    def ids() -> list[str]:
        found = docker.from_env().containers.list(
            filters={"label": f"com.docker.compose.project={radius_lab.cfg.core.project}"}
        )
        return sorted(c.id for c in found)

    before = ids()
    radius_lab.up("radius")
    assert ids() == before


def test_port_is_published_on_lab_bind_only(radius_lab: Any) -> None:
    import docker

    found = docker.from_env().containers.list(
        filters={"label": [f"com.docker.compose.project={radius_lab.cfg.core.project}",
                           "com.docker.compose.service=radius"]}
    )  # fmt: skip
    ports = found[0].attrs["NetworkSettings"]["Ports"]["1812/udp"]
    assert {p["HostIp"] for p in ports} == {"127.0.0.1"}
    vpn = docker.from_env().containers.list(
        filters={"label": [f"com.docker.compose.project={radius_lab.cfg.core.project}",
                           "com.docker.compose.service=openvpn"]}
    )  # fmt: skip
    assert {p["HostIp"] for p in vpn[0].attrs["NetworkSettings"]["Ports"]["1194/udp"]} == {"127.0.0.1"}


def test_password_comma_code_is_accepted_in_one_round(radius_lab: Any) -> None:
    user = _user(radius_lab, "yoda")
    code = _code(radius_lab, user)
    run = radius_lab.run(
        "radius", "test", "--json", "-u", user, "-p", f"{radius_lab.cfg.ldap.demo_password},{code}", check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert [r["code"] for r in json.loads(run.stdout)["rounds"]] == ["Access-Accept"]
