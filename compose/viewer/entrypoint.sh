#!/bin/sh
# Make the bind-mounted recordings folder usable by `viewer`, then run the app as that user.
set -eu
dir="${VIEWER_RECORDINGS_DIR:-/data/recordings}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$dir"
  [ "$(stat -c %U "$dir")" = viewer ] || chown viewer:viewer "$dir"
  exec setpriv --reuid viewer --regid viewer --init-groups --inh-caps=-all \
    "$0" "$@"
fi
cd /var/lib/viewer
exec /opt/viewer/bin/lab viewer serve --host 0.0.0.0 --port 3000 --seed-first-start "$@"
