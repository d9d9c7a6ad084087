"""Checks for the RADIUS stand-in (`radius`), on Docker or a native host.

Probes are real RADIUS exchanges (lab.radius.client, pyrad) to the published UDP port: the
server answers the password with a challenge, a sample user gets Access-Accept through the
whole MFA challenge (factor, then the current TOTP code), a wrong password gets Access-Reject, and
a wrong shared secret gets no valid reply at all. Outcomes are judged by packet code only.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("pyrad", reason="lab radius checks need pyrad (pip install 'okta-lab[radius]')")

from lab.radius import otp  # noqa: E402
from lab.radius.client import RadiusClient, RadiusError, Reply, authenticate  # noqa: E402


@pytest.fixture(scope="module")
def user(lab: Any) -> str:
    lab.require("radius")
    return f"luke.skywalker@{lab.cfg.ldap.mail_domain}"


def _client(lab: Any, secret: str | None = None, timeout: float = 10.0) -> RadiusClient:
    return RadiusClient(
        lab.addr,
        lab.port("RADIUS_PORT"),
        secret if secret is not None else lab.cfg.radius.shared_secret,
        timeout=timeout,
        interval=1.0,
    )


def _login(lab: Any, user: str) -> Any:
    """Password, factor 1, the current code: the exchange."""
    if time.time() % 30 > 25:  # not late in the 30 s step
        time.sleep(30 - time.time() % 30 + 0.5)
    answers = iter(["1", otp.current_code(lab.cfg.radius.totp_key, user)])

    def answer(_reply: Reply) -> str:
        return next(answers)

    with _client(lab) as client:
        return authenticate(client, user, lab.cfg.ldap.demo_password, answer)


def test_radiusd_runs_and_listens_on_udp_1812(lab: Any) -> None:
    lab.require("radius")
    host = lab.host("radius")
    assert host.process.filter(comm="freeradius"), lab.logs("radius")
    assert host.socket("udp://0.0.0.0:1812").is_listening, lab.logs("radius")


def test_server_answers_a_password_with_a_challenge(lab: Any, user: str) -> None:
    with _client(lab) as client:
        reply = lab.wait(lambda: client.send(client.build(user, lab.cfg.ldap.demo_password)), timeout=30)
    assert reply.code == "Access-Challenge", reply
    assert reply.state and reply.messages and reply.message_authenticator, reply


def test_sample_user_accepted_through_the_challenge(lab: Any, user: str) -> None:
    exchange = _login(lab, user)
    if exchange.code == "Access-Reject" and len(exchange.rounds) == 3:
        # the server accepts each code once: someone (`lab radius test`) may have just used this
        # step's code; the next step's is fresh
        time.sleep(30 - time.time() % 30 + 0.5)
        exchange = _login(lab, user)
    assert [r.code for r in exchange.rounds] == ["Access-Challenge", "Access-Challenge", "Access-Accept"], (
        exchange.as_dict(),
        lab.logs("radius"),
    )


def test_wrong_password_rejected(lab: Any, user: str) -> None:
    with _client(lab) as client:
        reply = client.send(client.build(user, "not-the-password"))
    assert reply.code == "Access-Reject", reply


def test_wrong_secret_gets_no_valid_reply(lab: Any, user: str) -> None:
    with _client(lab, secret="not-the-shared-secret", timeout=3) as client, pytest.raises(RadiusError) as err:
        client.send(client.build(user, lab.cfg.ldap.demo_password))
    assert "secret" in str(err.value)
