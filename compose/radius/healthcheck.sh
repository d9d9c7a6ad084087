#!/bin/sh
# Healthy when radiusd answers a signed Status-Server (RFC 5997) on loopback. The secret goes to
# radclient in a file (-S), never on its command line.
set -eu
umask 077
f=$(mktemp)
trap 'rm -f "$f"' EXIT
printf '%s\n' "$RADIUS_SECRET" > "$f"
echo "Message-Authenticator = 0x00" | radclient -q -r 1 -t 3 -S "$f" 127.0.0.1:1812 status >/dev/null
