"""A RADIUS authentication client (RFC 2865) that follows Access-Challenge rounds, on pyrad.

pyrad builds and checks the packets: PAP User-Password hiding (RFC 2865 §5.2), the
Message-Authenticator (RFC 3579 §3.2, first attribute, as the BlastRADIUS advice asks), and the
reply's Response Authenticator (RFC 2865 §3) and Message-Authenticator. The transport is ours, a
connected UDP socket, so that "nothing came back" (shared secret or client address wrong: the
server drops what it cannot verify), "a reply failed verification" (secret wrong) and "the port
is closed" (ICMP unreachable) are told apart.

The outcome is judged by the packet code only: Access-Accept, Access-Reject or Access-Challenge;
Reply-Message text is shown, never interpreted.
"""

from __future__ import annotations

import io
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyrad import packet
from pyrad.dictionary import Dictionary

from lab.errors import LabError, Problem, UsageError

# The attributes this client sends or shows (RFC 2865 §5, RFC 2869 §5.14); others show by number.
_DICTIONARY = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Service-Type 6 integer
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Filter-Id 11 string
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE State 24 octets
ATTRIBUTE Class 25 octets
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Idle-Timeout 28 integer
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Proxy-State 33 octets
ATTRIBUTE Message-Authenticator 80 octets
"""
CODES = {
    packet.AccessAccept: "Access-Accept",
    packet.AccessReject: "Access-Reject",
    packet.AccessChallenge: "Access-Challenge",
}
#: Attributes whose values are binary: shown as hex.
_OCTETS = {"State", "Class", "Proxy-State", "Message-Authenticator"}


class RadiusError(LabError):
    """No usable answer: unreachable, no valid reply, or the challenge loop did not end."""


@dataclass(frozen=True)
class Reply:
    """One request and its verified reply.

    `code` is the RFC 2865 packet-type name; `attributes` maps names to values (octets as hex);
    `seconds` is the time from the first send to the reply; `tries` counts sends (1 = no
    retransmission); `message_authenticator` says whether the reply carried a valid one.
    """

    code: str
    attributes: dict[str, list[str]]
    seconds: float
    tries: int
    message_authenticator: bool
    state: bytes | None = None
    sent: tuple[str, ...] = ()  # attribute names of the request (never values: the password)

    @property
    def messages(self) -> list[str]:
        return self.attributes.get("Reply-Message", [])


@dataclass(frozen=True)
class Exchange:
    """Every round of one authentication, and how it ended."""

    server: str
    rounds: tuple[Reply, ...] = field(default_factory=tuple)

    @property
    def code(self) -> str:
        return self.rounds[-1].code if self.rounds else ""

    @property
    def accepted(self) -> bool:
        return self.code == "Access-Accept"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: codes, attribute names and values (never the password), timings in ms."""
        return {
            "server": self.server,
            "result": self.code,
            "accepted": self.accepted,
            "rounds": [
                {
                    "sent": list(r.sent),
                    "code": r.code,
                    "attributes": r.attributes,
                    "ms": round(r.seconds * 1000, 2),
                    "tries": r.tries,
                    "message_authenticator": r.message_authenticator,
                }
                for r in self.rounds
            ],
        }


def dictionary() -> Dictionary:
    return Dictionary(io.StringIO(_DICTIONARY))


class RadiusClient:
    """Access-Requests to one server.

    `timeout` is the total seconds to wait for one reply (push-sized: an Okta Verify push may take
    a minute); the same packet is sent again every `interval` seconds meanwhile (RFC 5080 §2.2.1:
    a retransmission keeps its Identifier and Request Authenticator, so the server answers it from
    its duplicate cache instead of authenticating twice).

    `first_timeout`, when set, bounds the wait until the server's first verified reply: a server
    that drops a request it cannot verify (wrong secret, unknown client) is then named in seconds,
    not after a push-sized wait. Once it has answered, each reply gets the whole `timeout` (the
    answer to an MFA challenge may wait for a push). Leave it unset when the first request itself
    waits for a push (Okta's agent with an automatic push).
    """

    def __init__(
        self,
        host: str,
        port: int,
        secret: str,
        *,
        timeout: float = 60.0,
        interval: float = 5.0,
        first_timeout: float | None = None,
        nas_ip: str = "127.0.0.1",
        calling_station: str = "127.0.0.1",
        nas_identifier: str = "okta-lab",
    ) -> None:
        self.host, self.port = host, port
        self.secret = secret.encode()
        self.timeout = timeout
        self.interval = max(0.1, min(interval, timeout))
        self.first_timeout = first_timeout
        self._answered = False  # a verified reply came: from now on the whole timeout applies
        self.nas_ip, self.calling_station, self.nas_identifier = nas_ip, calling_station, nas_identifier
        self.dict = dictionary()
        self._sock: socket.socket | None = None

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    def _socket(self) -> socket.socket:
        if self._sock is None:
            try:
                infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            except socket.gaierror as exc:
                raise UsageError(
                    Problem(f"cannot resolve RADIUS server {self.host!r}: {exc.strerror}", "check --server")
                ) from None
            family, kind, proto, _, addr = infos[0]
            sock = socket.socket(family, kind, proto)
            try:
                sock.connect(addr)  # connected: ICMP port unreachable surfaces as ECONNREFUSED
            except OSError as exc:
                sock.close()
                raise RadiusError(Problem(f"cannot reach {self.server}: {exc.strerror}", "check --server")) from None
            self._sock = sock
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> RadiusClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def build(self, user: str, password: str, state: bytes | None = None) -> packet.AuthPacket:
        """An Access-Request with PAP, NAS-IP-Address, Calling-Station-Id and Message-Authenticator."""
        pkt = packet.AuthPacket(
            code=packet.AccessRequest,
            id=secrets.randbelow(256),
            secret=self.secret,
            dict=self.dict,
            message_authenticator=True,
        )
        pkt["User-Name"] = user
        pkt["User-Password"] = pkt.PwCrypt(password)
        pkt["NAS-IP-Address"] = self.nas_ip
        pkt["NAS-Identifier"] = self.nas_identifier
        pkt["Calling-Station-Id"] = self.calling_station
        if state is not None:
            pkt["State"] = state  # RFC 2865 §5.24: sent back unmodified
        return pkt

    def send(self, pkt: packet.AuthPacket) -> Reply:
        """Send `pkt`, retransmitting, until a verified reply arrives or the wait passes (`timeout`,
        or `first_timeout` until the server first answered)."""
        sock = self._socket()
        raw = pkt.RequestPacket()
        start = time.monotonic()
        wait = self._wait()
        deadline = start + wait
        tries = invalid = 0
        refused = False
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            try:
                sock.send(raw)
                tries += 1
            except ConnectionRefusedError:
                refused = True
            next_send = min(deadline, now + min(self.interval, wait))
            while (now := time.monotonic()) < next_send:
                sock.settimeout(next_send - now)
                try:
                    data = sock.recv(4096)
                except TimeoutError:
                    break
                except ConnectionRefusedError:
                    refused = True
                    break
                reply = self._verified(pkt, data)
                if reply is None:
                    invalid += 1
                    continue
                self._answered = True
                return self._reply(pkt, reply, time.monotonic() - start, tries)
        raise RadiusError(self._silence(tries, invalid, refused, wait))

    def _wait(self) -> float:
        if self._answered or self.first_timeout is None:
            return self.timeout
        return min(self.first_timeout, self.timeout)

    def _verified(self, pkt: packet.AuthPacket, data: bytes) -> packet.Packet | None:
        try:
            reply = pkt.CreateReply(packet=data)
        except packet.PacketError:
            return None
        return reply if pkt.VerifyReply(reply, data) else None

    def _reply(self, pkt: packet.AuthPacket, reply: packet.Packet, seconds: float, tries: int) -> Reply:
        attrs: dict[str, list[str]] = {}
        state = None
        for key in reply.keys():  # noqa: SIM118 - pyrad: keys() gives names, iteration codes
            name = key if isinstance(key, str) else str(key)
            values = reply[key]
            shown = []
            for value in values:
                if isinstance(value, bytes):
                    shown.append(value.hex() if name in _OCTETS or not _printable(value) else value.decode())
                else:
                    shown.append(str(value))
            attrs[name] = shown
            if name == "State" and values:
                state = values[0] if isinstance(values[0], bytes) else str(values[0]).encode()
        sent = tuple(k if isinstance(k, str) else str(k) for k in pkt.keys())  # noqa: SIM118
        return Reply(
            code=CODES.get(reply.code, f"code {reply.code}"),
            attributes=attrs,
            seconds=seconds,
            tries=tries,
            message_authenticator="Message-Authenticator" in attrs,
            state=state,
            sent=sent,
        )

    def _silence(self, tries: int, invalid: int, refused: bool, wait: float) -> Problem:
        waited = f"{wait:g} s"
        if refused and not invalid:
            return Problem(
                f"cannot reach {self.server}: nothing listens on that UDP port",
                "check --server/--port and that the radius service is up (`lab status`)",
            )
        if invalid:
            return Problem(
                f"{invalid} repl{'y' if invalid == 1 else 'ies'} from {self.server} failed verification "
                "(Response Authenticator / Message-Authenticator)",
                "the shared secret is likely wrong: use the server's (RADIUS_SECRET, `lab creds radius`)",
            )
        return Problem(
            f"no valid reply from {self.server} in {waited} ({tries} sends)",
            "the shared secret or this client's address is likely wrong (the server drops requests it "
            "cannot verify or from unknown clients), or the server is down"
            + (
                "; if its first reply waits for a push, use --push"
                if wait < self.timeout and not self._answered
                else ""
            ),
        )


def _printable(value: bytes) -> bool:
    try:
        return value.decode().isprintable()
    except UnicodeDecodeError:
        return False


Answer = Callable[[Reply], str]


def authenticate(client: RadiusClient, user: str, password: str, answer: Answer, *, max_rounds: int = 5) -> Exchange:
    """Access-Request, then one more per Access-Challenge (its State echoed, the answer as
    User-Password, as Okta's agent expects) until Accept or Reject.

    `answer(reply)` gives the response to a challenge; it raises to stop. More than `max_rounds`
    challenges raise RadiusError. The result is judged by `Exchange.code` only.
    """
    rounds: list[Reply] = []
    reply = client.send(client.build(user, password))
    rounds.append(reply)
    while reply.code == "Access-Challenge":
        if len(rounds) > max_rounds:
            raise RadiusError(
                Problem(
                    f"gave up after {max_rounds} Access-Challenge round(s) (--max-rounds)",
                    "answer the prompts as shown, or raise --max-rounds (RADIUS_MAX_ROUNDS)",
                )
            )
        if reply.state is None:
            raise RadiusError(Problem("Access-Challenge without a State attribute (RFC 2865 §4.4)"))
        reply = client.send(client.build(user, answer(reply), reply.state))
        rounds.append(reply)
    return Exchange(server=client.server, rounds=tuple(rounds))
