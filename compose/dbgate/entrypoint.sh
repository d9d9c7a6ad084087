#!/bin/sh
# Run DBGate as the dbgate user with a login (LOGIN/PASSWORD) and the lab connection from the
# environment (CONNECTIONS=lab, SERVER_lab, ...). Refuses to start without a password.
set -eu
if [ -z "${PASSWORD:-}" ] || [ "${#PASSWORD}" -lt 12 ]; then
  echo "dbgate: DBGATE_PASSWORD is missing or shorter than 12 characters; run \`lab init --force\`" >&2
  exit 2
fi
: "${LOGIN:?dbgate: DBGATE_LOGIN is empty}"
install -d -o dbgate -g dbgate -m 0700 "$HOME"
chown dbgate:dbgate "$HOME"
echo "dbgate: starting on port ${PORT} with login ${LOGIN} and connection(s) ${CONNECTIONS:-none}"
exec setpriv --reuid=dbgate --regid=dbgate --init-groups \
  /usr/bin/node /opt/dbgate/node_modules/dbgate-serve/bin/dbgate-serve.js
