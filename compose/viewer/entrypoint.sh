#!/bin/sh
# Make the bind-mounted recordings and search-index folders usable by `viewer`, then run the app
# as that user.
set -eu
dir="${VIEWER_RECORDINGS_DIR:-/data/recordings}"
search="$(dirname "${VIEWER_SEARCH_DB:-/data/search/search.sqlite3}")"
if [ "$(id -u)" = 0 ]; then
  for d in "$dir" "$search"; do
    mkdir -p "$d"
    [ "$(stat -c %U "$d")" = viewer ] || chown viewer:viewer "$d"
  done
  exec setpriv --reuid viewer --regid viewer --init-groups --inh-caps=-all \
    "$0" "$@"
fi
cd /var/lib/viewer
exec /opt/viewer/bin/lab viewer serve --host 0.0.0.0 --port 3000 --seed-first-start "$@"
