#!/bin/bash
# Start nginx (bearer-token check, port 8000) and supergateway (okta-mcp-server over stdio ->
# Streamable HTTP on 127.0.0.1:8001), both as the unprivileged user okta-mcp; exit when either ends.
# Runs as root only to prepare /var/lib/okta-mcp (data/okta-mcp on the host: any owner) and to read
# the private key file (mounted read-only, mode 0600, owned by the host user) into the environment
# of the server, which takes the key only as OKTA_PRIVATE_KEY.
set -euo pipefail
umask 077
say() { echo "okta-mcp: $*" >&2; }
fail() { say "$*"; exit 2; }
DATA=/var/lib/okta-mcp
KEY_FILE=/run/secrets/okta-mcp-key
[ "${#MCP_GATEWAY_TOKEN}" -ge 24 ] && [[ "$MCP_GATEWAY_TOKEN" =~ ^[A-Za-z0-9_-]+$ ]] \
  || fail "MCP_GATEWAY_TOKEN is missing, shorter than 24 characters or not URL-safe; run \`lab init --add-missing\`"
: "${OKTA_ORG_URL:?okta-mcp: OKTA_ORG is empty; set it in .env}"
: "${OKTA_CLIENT_ID:?okta-mcp: OKTA_MCP_CLIENT_ID is empty; set it in .env}"
: "${OKTA_KEY_ID:?okta-mcp: OKTA_MCP_KEY_ID is empty; set it in .env}"
[ -r "$KEY_FILE" ] || fail "the private key is not mounted at $KEY_FILE; set OKTA_MCP_PRIVATE_KEY_FILE and run \`lab up mcp\`"

# data/okta-mcp: owned by okta-mcp whoever created it; the plaintext keyring (keyrings.alt) holds
# only the access token of this run: emptied at every start, 0600.
install -d -m 0700 "$DATA" "$DATA/logs" "$XDG_DATA_HOME" "$XDG_DATA_HOME/python_keyring"
: > "$XDG_DATA_HOME/python_keyring/keyring_pass.cfg"
chmod 0600 "$XDG_DATA_HOME/python_keyring/keyring_pass.cfg"
chown -R okta-mcp:okta-mcp "$DATA"
chmod -R go-rwx "$DATA"
install -d -o okta-mcp -g okta-mcp -m 0700 /run/okta-mcp
# The Okta SDK's request timeout and 429 retries, as numbers: its OKTA_CLIENT_* environment
# variables arrive as strings, which it then compares with numbers and fails every call.
install -d -o okta-mcp -g okta-mcp -m 0700 "$DATA/.okta"
printf 'okta:\n  client:\n    requestTimeout: %d\n    rateLimit:\n      maxRetries: %d\n' \
  "${LAB_OKTA_TIMEOUT:-30}" "${LAB_OKTA_MAX_RETRIES:-3}" > "$DATA/.okta/okta.yaml"
chown okta-mcp:okta-mcp "$DATA/.okta/okta.yaml"

rate=${MCP_RATE_LIMIT:-600}
sed -e "s/@TOKEN@/$MCP_GATEWAY_TOKEN/" -e "s/@RATE@/$rate/" -e "s/@BURST@/$(( rate / 10 + 10 ))/" \
  /etc/nginx/okta-mcp.conf > /run/okta-mcp/nginx.conf
chown okta-mcp:okta-mcp /run/okta-mcp/nginx.conf
unset MCP_GATEWAY_TOKEN MCP_RATE_LIMIT

OKTA_PRIVATE_KEY=$(cat "$KEY_FILE")
export OKTA_PRIVATE_KEY OKTA_LOG_FILE="$DATA/logs/okta-mcp.log" HOME="$DATA"
export NODE_OPTIONS="--require /opt/okta-mcp/loopback.cjs"
as_user() { exec setpriv --reuid=okta-mcp --regid=okta-mcp --init-groups "$@"; }  # only ever run with &: the subshell becomes the process

say "gateway on port 8000 (bearer token required, /healthz open) for org ${OKTA_ORG_URL}, scopes: ${OKTA_SCOPES:-none}"
as_user nginx -e stderr -c /run/okta-mcp/nginx.conf -g 'daemon off;' &
as_user node /opt/okta-mcp/gateway/node_modules/supergateway/dist/index.js \
  --stdio /opt/okta-mcp/venv/bin/okta-mcp-server --outputTransport streamableHttp --stateful \
  --port 8001 --healthEndpoint /healthz --logLevel "${MCP_GATEWAY_LOG_LEVEL:-none}" &
set +e
wait -n
code=$?
say "a process ended (exit $code); stopping"
kill $(jobs -p) 2>/dev/null
exit "$code"
