"""Stands in for the Okta On-prem SCIM Server in tests: HTTPS on 1443 with the generated
certificate; `/ws/rest/{app}/scim/v2/Status` answers like the real server, everything else needs
the bearer token from the generated properties file."""

import glob
import http.server
import ssl


def props() -> dict:
    path = sorted(glob.glob("/etc/OktaOnPremScimServer/config-*.properties"))[0]
    out = {}
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key] = value
    return out


CONF = props()
TOKEN = CONF["scim.security.bearer.token"]
P12 = CONF["server.ssl.key-store"]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.endswith("/scim/v2/Status"):
            body = "Scim Server is running."
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
            self.end_headers()
            return
        else:
            body = '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0}'
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: object) -> None:
        with open("/var/log/OktaOnPremScimServer/application.log", "a", encoding="utf-8") as log:
            log.write((fmt % args) + "\n")


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(P12[: -len(".p12")] + ".crt", P12[: -len(".p12")] + ".key")
server = http.server.HTTPServer(("0.0.0.0", 1443), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("fake OktaOnPremScimServer listening on 1443", flush=True)
server.serve_forever()
