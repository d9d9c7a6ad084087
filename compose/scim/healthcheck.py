"""Container healthcheck: an authenticated SCIM request that reaches the database must answer 200."""

import json
import ssl
import sys
import urllib.request
from pathlib import Path

DATA = Path("/var/lib/okta-lab-scim")
try:
    token = (DATA / "token").read_text().strip()
    context = ssl.create_default_context(cafile=str(DATA / "scim.crt"))
    request = urllib.request.Request(
        "https://127.0.0.1:1443/scim/v2/Users?count=1&attributes=userName",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/scim+json"},
    )
    with urllib.request.urlopen(request, timeout=4, context=context) as resp:
        body = json.load(resp)
        sys.exit(0 if resp.status == 200 and "totalResults" in body else 1)
except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"scim unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
