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

# No skip when pyrad is missing: in a RADIUS lab these checks are the point, so a missing client
# library is a failure (`make venv` installs the radius extra).
from lab.radius import otp
from lab.radius.client import RadiusClient, RadiusError, Reply, authenticate


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


def _vpn_login(lab: Any, user: str, password: str, timeout: float = 90) -> str:
    """Connect a real `openvpn` client (the openvpn image, on the lab network, its own tun) with
    the lab's client profile; return its log up to "Initialization Sequence Completed" or
    AUTH_FAILED."""
    import tempfile
    from pathlib import Path

    import docker

    engine = docker.from_env()
    server = engine.containers.get(lab.container("openvpn"))
    network = next(iter(server.attrs["NetworkSettings"]["Networks"]))
    profile = lab.data.read("openvpn/client.ovpn")
    assert profile, f"no data/openvpn/client.ovpn\n{lab.logs('openvpn')}"
    lines = [("remote openvpn 1194" if line.startswith("remote ") else line) for line in profile.splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "client.ovpn").write_text("\n".join(lines) + "\n")
        Path(tmp, "auth").write_text(f"{user}\n{password}\n")
        Path(tmp, "auth").chmod(0o600)
        client = engine.containers.run(
            server.image.id,
            entrypoint="openvpn",
            command=["--config", "/c/client.ovpn", "--auth-user-pass", "/c/auth", "--auth-retry", "none"],
            network=network,
            cap_add=["NET_ADMIN"],
            devices=["/dev/net/tun:/dev/net/tun"],
            volumes={tmp: {"bind": "/c", "mode": "ro"}},
            detach=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                log = client.logs().decode(errors="replace")
                if "Initialization Sequence Completed" in log or "AUTH_FAILED" in log:
                    return log
                client.reload()
                if client.status == "exited":  # its last lines came after the read above
                    return client.logs().decode(errors="replace")
                time.sleep(0.5)
            return client.logs().decode(errors="replace")
        finally:
            client.remove(force=True)


@pytest.fixture(scope="module")
def vpn(lab: Any) -> None:
    lab.require("openvpn")
    if lab.target != "docker" or lab.remote:
        pytest.skip("the VPN client check runs a client container next to a local Docker lab")


def test_openvpn_serves_with_its_tun_device(lab: Any) -> None:
    lab.require("openvpn")
    host = lab.host("openvpn")
    assert host.process.filter(comm="openvpn"), lab.logs("openvpn")
    assert host.interface("tun0").exists, lab.logs("openvpn")


def test_vpn_login_works_after_radius_accept(lab: Any, vpn: None) -> None:
    user = f"obiwan.kenobi@{lab.cfg.ldap.mail_domain}"
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    code = otp.current_code(lab.cfg.radius.totp_key, user)
    log = _vpn_login(lab, user, f"{lab.cfg.ldap.demo_password},{code}")
    if "AUTH_FAILED" in log:  # this step's code may have been used already: the next one is fresh
        time.sleep(30 - time.time() % 30 + 0.5)
        log = _vpn_login(lab, user, f"{lab.cfg.ldap.demo_password},{otp.current_code(lab.cfg.radius.totp_key, user)}")
    assert "Initialization Sequence Completed" in log, log + lab.logs("openvpn")


def test_vpn_refuses_a_wrong_password(lab: Any, vpn: None) -> None:
    user = f"obiwan.kenobi@{lab.cfg.ldap.mail_domain}"
    log = _vpn_login(lab, user, "not-the-password,123456")
    assert "AUTH_FAILED" in log and "Initialization Sequence Completed" not in log, log
