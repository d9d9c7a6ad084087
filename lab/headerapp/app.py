"""header-app: the protected app of the header lab. It shows every request header it received.

Standard library only (``http.server``), so the image needs nothing but Python: WSGI and ASGI
servers rewrite header names (``oag_username`` becomes ``HTTP_OAG_USERNAME``), and the exact name
OAG sends is what an SE needs to see.

Routes (any method):
- ``/health`` -> ``{"status": "ok"}``
- ``/headers.json``, or any path with ``?format=json`` or ``Accept: application/json`` -> the JSON
  document of :func:`report`
- anything else -> the same as an HTML page, identity headers highlighted.

No authentication: it is the app the gateway protects. Environment: ``HEADERAPP_LISTEN``
(default ``0.0.0.0``), ``HEADERAPP_LISTEN_PORT`` (8080), ``HEADERAPP_HIGHLIGHT`` (comma-separated
header names, case-insensitive).
"""

from __future__ import annotations

import html
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lab.headerapp.headers import DEFAULT_IDENTITY_HEADERS, describe

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


@dataclass(frozen=True)
class AppSettings:
    """``highlight``: identity header names (any case); ``host``/``port``: where to listen."""

    highlight: tuple[str, ...] = DEFAULT_IDENTITY_HEADERS
    host: str = "0.0.0.0"
    port: int = 8080

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> AppSettings:
        names = tuple(n.strip() for n in environ.get("HEADERAPP_HIGHLIGHT", "").split(",") if n.strip())
        return cls(
            highlight=names or DEFAULT_IDENTITY_HEADERS,
            host=environ.get("HEADERAPP_LISTEN", "0.0.0.0"),
            port=int(environ.get("HEADERAPP_LISTEN_PORT", "8080")),
        )


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def report(method: str, target: str, headers: list[tuple[str, str]], settings: AppSettings) -> dict[str, Any]:
    """The JSON document: ``method``, ``path``, ``headers`` (list of ``{name, value, decoded,
    identity}`` in received order) and ``identity`` (highlighted name -> decoded value or raw)."""
    described = describe(headers, settings.highlight)
    return {
        "method": method,
        "path": urlsplit(target).path,
        "headers": [
            {"name": h.name, "value": h.value, "decoded": h.decoded, "identity": h.identity} for h in described
        ],
        "identity": {h.name: h.decoded if h.decoded is not None else h.value for h in described if h.identity},
    }


def handle(method: str, target: str, headers: list[tuple[str, str]], settings: AppSettings) -> Response:
    """Answer one request (pure: the HTTP server only moves bytes)."""
    url = urlsplit(target)
    if url.path == "/health":
        return Response(200, "application/json", b'{"status": "ok"}\n')
    accept = next((v for n, v in headers if n.lower() == "accept"), "")
    wants_json = (
        url.path == "/headers.json"
        or parse_qs(url.query).get("format") == ["json"]
        or accept.split(",")[0].strip().startswith("application/json")
    )
    data = report(method, target, headers, settings)
    if wants_json:
        return Response(200, "application/json", (json.dumps(data, indent=2) + "\n").encode())
    return Response(200, "text/html; charset=utf-8", page(data).encode())


def page(data: dict[str, Any]) -> str:
    """The HTML view of :func:`report`'s document; every value escaped."""
    rows = []
    for h in data["headers"]:
        decoded = ""
        if h["decoded"] is not None:
            decoded = f"<br><small>decoded: <code>{html.escape(h['decoded'])}</code></small>"
        cls = ' class="identity"' if h["identity"] else ""
        rows.append(
            f"<tr{cls}><th>{html.escape(h['name'])}</th><td><code>{html.escape(h['value'])}</code>{decoded}</td></tr>"
        )
    ident = "".join(
        f"<li><b>{html.escape(k)}</b>: <code>{html.escape(str(v))}</code></li>" for k, v in data["identity"].items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>header-app: what the app received</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{text-align:left;border-bottom:1px solid #ddd;padding:.3em .8em;vertical-align:top}}
tr.identity{{background:#fff3c4}}code{{word-break:break-all}}</style></head>
<body><h1>Headers received</h1>
<p>{html.escape(data["method"])} <code>{html.escape(data["path"])}</code> &middot;
highlighted rows are identity headers &middot; <a href="/headers.json">JSON</a></p>
<h2>Identity</h2><ul>{ident or "<li>none received</li>"}</ul>
<h2>All headers</h2><table>{"".join(rows)}</table></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    settings: AppSettings = AppSettings()
    server_version = "header-app"
    sys_version = ""

    def _answer(self) -> None:
        response = handle(self.command, self.path, list(self.headers.items()), self.settings)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        sys.stderr.write(f"header-app: {self.address_string()} {format % args}\n")


def make_server(settings: AppSettings) -> ThreadingHTTPServer:
    """A server bound to ``settings.host:port`` (port 0 picks a free one), not yet serving."""
    handler = type("Handler", (_Handler,), {"settings": settings})
    return ThreadingHTTPServer((settings.host, settings.port), handler)


def main() -> None:
    settings = AppSettings.from_environ(os.environ)
    server = make_server(settings)
    sys.stderr.write(f"header-app: listening on {settings.host}:{server.server_address[1]}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
