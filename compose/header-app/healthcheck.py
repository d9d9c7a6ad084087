"""Container healthcheck: header-app's /health must answer 200."""

import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:8080/health", timeout=4) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"header-app unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
