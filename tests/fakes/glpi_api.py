"""A fake of the parts of GLPI's REST API (apirest.php) the lab's configuration script uses.

Served on 127.0.0.1 by the contract tests; records every request. Answers as GLPI does: compact
JSON with escaped slashes (PHP's json_encode), Basic auth on initSession, a Session-Token after.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


def php_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/").encode()


@dataclass
class FakeGlpi:
    users: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "glpi": {"id": 2, "password": "glpi"},
            "post-only": {"id": 3, "password": "postonly"},
            "tech": {"id": 4, "password": "tech"},
            "normal": {"id": 5, "password": "normal"},
        }
    )
    authldaps: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    sessions: set[str] = field(default_factory=set)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = php_json(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                url = urlsplit(self.path)
                path = url.path.removeprefix("/apirest.php/")
                fake.calls.append((self.command, unquote(self.path.removeprefix("/apirest.php/")), body))
                status, answer = fake.route(self.command, path, parse_qs(url.query), body, self.headers)
                self._answer(status, answer)

            do_GET = do_POST = do_PUT = _handle  # noqa: N815

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_port}/apirest.php"

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: Any) -> tuple[int, Any]:
        if path == "initSession":
            user, _, password = (
                base64.b64decode(headers.get("Authorization", "Basic ").split()[1]).decode().partition(":")
            )
            if self.users.get(user, {}).get("password") != password:
                return 401, ["ERROR_GLPI_LOGIN", "Incorrect username or password"]
            token = f"session-{len(self.sessions) + 1}"
            self.sessions.add(token)
            return 200, {"session_token": token}
        if headers.get("Session-Token") not in self.sessions:
            return 401, ["ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"]
        if path == "killSession":
            return 200, True
        name = re.sub(r"^\^|\$$", "", query.get("searchText[name]", [""])[0])
        if method == "GET" and path == "User/":
            return 200, [{"id": u["id"], "name": n} for n, u in self.users.items() if n == name]
        m = re.fullmatch(r"User/(\d+)", path)
        if method == "PUT" and m:
            user = next(u for u in self.users.values() if u["id"] == int(m.group(1)))
            given = body["input"]
            assert given["password"] == given["password2"]
            user["password"] = given["password"]
            return 200, [{m.group(1): True, "message": ""}]
        if method == "GET" and path == "AuthLDAP/":
            return 200, [
                {k: v for k, v in a.items() if k != "rootdn_passwd"} for a in self.authldaps if a["name"] == name
            ]
        if method == "POST" and path == "AuthLDAP":
            item = {"id": len(self.authldaps) + 1, **body["input"]}
            self.authldaps.append(item)
            return 201, {"id": item["id"], "message": ""}
        m = re.fullmatch(r"AuthLDAP/(\d+)", path)
        if method == "PUT" and m:
            item = self.authldaps[int(m.group(1)) - 1]
            item.update(body["input"])
            return 200, [{m.group(1): True, "message": ""}]
        return 400, ["ERROR", f"the fake does not serve {method} {path}"]
