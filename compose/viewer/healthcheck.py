"""Container healthcheck: the viewer's /health must answer 200 (app and storage work)."""

import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:3000/health", timeout=4) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
    print(f"viewer unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
