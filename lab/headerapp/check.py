"""`lab headerapp test|reload`: one request through oag-sim judged, and nginx's refusals read.

Standard library only (urllib): the command needs nothing the toolkit does not already have.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from lab.company import Person
from lab.headerapp.directory import attribute
from lab.headerapp.headers import decode_header

Expect = Literal["username", "names"]
LAB_USER_HEADER = "X-Lab-User"

# `2026/12/03 12:54:38 [emerg] 55#55: unknown directive "x" in /etc/nginx/okta-lab-custom/active.conf:4`
# or, before the error log is open, `nginx: [emerg] ... in FILE:LINE`
_NGINX_ERROR = re.compile(
    r"\[(?P<level>emerg|alert|crit|error)\] (?:\d+#\d+: )?(?P<message>.*?)(?: in (?P<file>\S+?):(?P<line>\d+))?$",
    re.M,
)


@dataclass(frozen=True)
class NginxError:
    """What `nginx -t` refused: its message, and the file and line (None when it names none)."""

    message: str
    file: str | None
    line: int | None


def parse_nginx_test(output: str) -> NginxError | None:
    """The first error of `nginx -t` output (nginx's error-log line format), or None."""
    m = _NGINX_ERROR.search(output)
    if not m:
        return None
    return NginxError(m["message"].strip(), m["file"], int(m["line"]) if m["line"] else None)


def expected_authorization(person: Person, expect: Expect, header_map: tuple[tuple[str, str], ...], domain: str) -> str:
    """The text the snippet should base64-encode into Authorization for `person`.

    `username`: the article's first snippet (`set_encode_base64 $authzHeader $http_oag_username`),
    i.e. what oag-sim sends as `oag_username` (the login unless HEADERAPP_ATTRIBUTES maps it
    elsewhere). `names`: the second snippet, first name and last name joined without a space.
    """
    if expect == "names":
        return person.given_name + person.sn
    attr = next((a for n, a in header_map if n.lower() == "oag_username"), "login")
    return attribute(person, attr, domain)


@dataclass(frozen=True)
class Received:
    """header-app's JSON document (lab.headerapp.app.report) for one request through oag-sim."""

    status: int
    document: dict[str, Any]
    body: str = ""

    @property
    def headers(self) -> list[dict[str, Any]]:
        return list(self.document.get("headers", []))

    @property
    def authorization(self) -> tuple[str, str | None] | None:
        """(raw value, decoded text or None) of the Authorization header the app received."""
        for h in self.headers:
            if str(h["name"]).lower() == "authorization":
                return str(h["value"]), decode_header("authorization", str(h["value"]))
        return None


def fetch(url: str, user: str, timeout: float = 10) -> Received:
    """GET `url` with `X-Lab-User: user`; OSError when nothing answers there."""
    request = urllib.request.Request(url, headers={LAB_USER_HEADER: user, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            body = resp.read().decode("utf-8", "replace")
            status = resp.status
    except urllib.error.HTTPError as exc:
        return Received(exc.code, {}, exc.read().decode("utf-8", "replace").strip())
    try:
        return Received(status, json.loads(body))
    except json.JSONDecodeError:
        return Received(status, {}, body.strip())


def judge(received: Received, expected: str) -> tuple[bool, str]:
    """(ok, one line for people): does Authorization carry base64(`expected`) (RFC 4648 s.4)?"""
    if received.status != 200:
        return False, f"oag-sim answered {received.status}: {received.body[:200] or '(no body)'}"
    auth = received.authorization
    if auth is None:
        return False, "the app received no Authorization header (does the custom code set one?)"
    raw, decoded = auth
    if decoded is None:
        return False, f"Authorization {raw!r} is not base64 text"
    if decoded != expected:
        return False, f"Authorization decodes to {decoded!r}, expected {expected!r}"
    return True, f"Authorization {raw} decodes to {decoded!r}, as expected"
