#!/bin/sh
# Run the server unprivileged with its state folder (token, certificate) private to it. When `lab up`
# created the bind-mounted folder, the server runs as that folder's owner (the user who runs `lab`),
# so `lab scim creds` can read the token; a root-owned folder is handed to the `scim` user instead.
set -eu
dir="${SCIM_DATA_DIR:-/var/lib/okta-lab-scim}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$dir"
  uid=$(stat -c %u "$dir")
  gid=$(stat -c %g "$dir")
  if [ "$uid" = 0 ]; then
    chown -R scim:scim "$dir"
    uid=$(id -u scim)
    gid=$(id -g scim)
  fi
  chmod 0700 "$dir"
  exec setpriv --reuid "$uid" --regid "$gid" --clear-groups --inh-caps=-all "$0" "$@"
fi
exec /opt/scim/bin/python -m lab.scim "$@"
