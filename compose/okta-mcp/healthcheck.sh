#!/bin/sh
# Healthy when nginx answers /healthz with supergateway's "ok" (the whole chain but the tools).
out=$(python3 -c 'import urllib.request,sys; print(urllib.request.urlopen("http://127.0.0.1:8000/healthz", timeout=4).read().decode().strip())' 2>&1) || { echo "okta-mcp unhealthy: $out" >&2; exit 1; }
[ "$out" = ok ] || { echo "okta-mcp unhealthy: /healthz said $out" >&2; exit 1; }
