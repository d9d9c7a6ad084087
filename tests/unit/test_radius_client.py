"""lab.radius.client against a small in-process RADIUS server built on pyrad (real UDP, loopback)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("pyrad")

from pyrad import packet  # noqa: E402

from lab.errors import UsageError  # noqa: E402
from lab.radius.client import RadiusClient, RadiusError, authenticate, dictionary  # noqa: E402

SECRET = "s3cret-s3cret-16"
Handler = Callable[[packet.AuthPacket, int], "bytes | None"]


class FakeServer:
    """Answers each request with `handler(request, count)`: the raw reply, or None for silence."""

    def __init__(self, handler: Handler) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.requests: list[packet.AuthPacket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            req = packet.AuthPacket(packet=data, secret=SECRET.encode(), dict=dictionary())
            self.requests.append(req)
            out = self.handler(req, len(self.requests))
            if out is not None:
                self.sock.sendto(out, addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def reply(req: packet.AuthPacket, code: int, secret: str = SECRET, **attrs: Any) -> bytes:
    out = req.CreateReply(**attrs)
    out.code = code
    out.secret = secret.encode()
    out.add_message_authenticator()
    return bytes(out.ReplyPacket())


@pytest.fixture()
def serve() -> Iterator[Callable[[Handler], FakeServer]]:
    servers: list[FakeServer] = []

    def start(handler: Handler) -> FakeServer:
        servers.append(FakeServer(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def client(port: int, **kw: Any) -> RadiusClient:
    return RadiusClient("127.0.0.1", port, SECRET, **{"timeout": 2.0, "interval": 0.3, **kw})


def test_accept_through_the_challenge(serve: Any) -> None:
    def handler(req: packet.AuthPacket, n: int) -> bytes:
        if n == 1:
            return reply(req, packet.AccessChallenge, Reply_Message="choose", State=b"st-1")
        assert req["State"] == [b"st-1"]
        return reply(req, packet.AccessAccept, Reply_Message="Welcome")

    server = serve(handler)
    with client(server.port, nas_ip="10.0.0.9", calling_station="203.0.113.5") as c:
        exchange = authenticate(c, "luke", "pw", lambda r: "1")
    assert [r.code for r in exchange.rounds] == ["Access-Challenge", "Access-Accept"]
    assert exchange.accepted and exchange.rounds[0].messages == ["choose"]
    first, second = server.requests
    assert first.PwDecrypt(first["User-Password"][0]) == "pw"  # PAP, RFC 2865 §5.2
    assert second.PwDecrypt(second["User-Password"][0]) == "1"  # the answer goes as User-Password
    assert first["NAS-IP-Address"] == ["10.0.0.9"] and first["Calling-Station-Id"] == ["203.0.113.5"]
    assert first.message_authenticator and first.verify_message_authenticator()
    assert first.id != second.id or first.authenticator != second.authenticator
    data = exchange.as_dict()
    assert "pw" not in str(data) and data["result"] == "Access-Accept"


def test_reject_is_judged_by_code_not_text(serve: Any) -> None:
    server = serve(lambda req, n: reply(req, packet.AccessReject, Reply_Message="Welcome!"))
    with client(server.port) as c:
        exchange = authenticate(c, "luke", "pw", lambda r: "1")
    assert exchange.code == "Access-Reject" and not exchange.accepted


def test_retransmits_until_a_reply(serve: Any) -> None:
    server = serve(lambda req, n: None if n < 3 else reply(req, packet.AccessAccept))
    with client(server.port) as c:
        got = c.send(c.build("luke", "pw"))
    assert got.code == "Access-Accept" and got.tries == 3
    assert len({bytes(r.authenticator) for r in server.requests}) == 1  # the same packet each time


def test_reply_signed_with_another_secret_is_not_trusted(serve: Any) -> None:
    server = serve(lambda req, n: reply(req, packet.AccessAccept, secret="another-secret!!"))
    with client(server.port, timeout=1.0) as c, pytest.raises(RadiusError, match="shared secret is likely wrong"):
        c.send(c.build("luke", "pw"))


def test_bad_message_authenticator_is_not_trusted(serve: Any) -> None:
    def handler(req: packet.AuthPacket, n: int) -> bytes:
        raw = bytearray(reply(req, packet.AccessAccept))
        assert raw[20] == 80  # Message-Authenticator first
        raw[22] ^= 0xFF
        raw[4:20] = hashlib.md5(bytes(raw[:4]) + req.authenticator + bytes(raw[20:]) + SECRET.encode()).digest()
        return bytes(raw)

    server = serve(handler)
    with client(server.port, timeout=1.0) as c, pytest.raises(RadiusError, match="failed verification"):
        c.send(c.build("luke", "pw"))


def test_silence_names_the_secret_or_client_address(serve: Any) -> None:
    server = serve(lambda req, n: None)
    with client(server.port, timeout=1.0) as c, pytest.raises(RadiusError) as err:
        c.send(c.build("luke", "pw"))
    assert "shared secret or this client's address is likely wrong" in str(err.value)


def test_closed_port_is_unreachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with client(port, timeout=1.0) as c, pytest.raises(RadiusError, match="nothing listens"):
        c.send(c.build("luke", "pw"))


def test_unknown_host_is_a_usage_error() -> None:
    with RadiusClient("no-such-host.invalid", 1812, SECRET) as c, pytest.raises(UsageError, match="cannot resolve"):
        c.send(c.build("luke", "pw"))


def test_endless_challenges_give_up(serve: Any) -> None:
    server = serve(lambda req, n: reply(req, packet.AccessChallenge, State=b"again"))
    with client(server.port) as c, pytest.raises(RadiusError, match="gave up after 2"):
        authenticate(c, "luke", "pw", lambda r: "1", max_rounds=2)
    assert len(server.requests) == 3


def test_challenge_without_state_is_an_error(serve: Any) -> None:
    server = serve(lambda req, n: reply(req, packet.AccessChallenge, Reply_Message="?"))
    with client(server.port) as c, pytest.raises(RadiusError, match="without a State"):
        authenticate(c, "luke", "pw", lambda r: "1")


def test_first_timeout_names_a_silent_server_in_seconds(serve: Any) -> None:
    server = serve(lambda req, n: None)  # what a server does with a request signed by a wrong secret
    started = time.monotonic()
    with client(server.port, timeout=30.0, first_timeout=0.6) as c, pytest.raises(RadiusError) as err:
        c.send(c.build("luke", "pw"))
    assert time.monotonic() - started < 5  # not the push-sized 30 s
    assert "no valid reply from" in str(err.value) and "in 0.6 s" in str(err.value) and "--push" in str(err.value)


def test_after_the_first_reply_the_whole_timeout_applies(serve: Any) -> None:
    late: list[int] = []

    def handler(req: packet.AuthPacket, n: int) -> bytes | None:
        if "State" not in req:
            return reply(req, packet.AccessChallenge, State=b"s1", Reply_Message="code?")
        late.append(n)
        return None if len(late) < 5 else reply(req, packet.AccessAccept)  # about 1.2 s: a push being approved

    server = serve(handler)
    with client(server.port, timeout=5.0, first_timeout=0.5) as c:
        exchange = authenticate(c, "luke", "pw", lambda r: "123456")
    assert exchange.accepted and exchange.rounds[-1].seconds > 0.5


def test_without_first_timeout_the_first_request_waits_the_whole_timeout(serve: Any) -> None:
    server = serve(lambda req, n: None if n < 4 else reply(req, packet.AccessAccept))  # --push: about 0.9 s
    with client(server.port, timeout=5.0, first_timeout=None) as c:
        assert c.send(c.build("luke", "pw")).code == "Access-Accept"
