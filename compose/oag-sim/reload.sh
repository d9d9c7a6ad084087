#!/bin/sh
# `lab headerapp reload`: make custom.conf the active custom code only if `nginx -t` accepts the
# whole configuration with it, then reload nginx gracefully (never a restart). On refusal the
# previous active.conf is put back and nginx's own message goes to stderr; exit 1.
# Prints "reloaded" or "unchanged" (custom.conf is what already runs).
set -eu
dir=/etc/nginx/okta-lab-custom
[ -f "$dir/custom.conf" ] || { echo "oag-sim: no custom.conf in the custom code folder" >&2; exit 1; }
cp "$dir/active.conf" /tmp/active.prev
cp "$dir/custom.conf" "$dir/active.conf"
if ! out=$(nginx -t 2>&1); then
  cp /tmp/active.prev "$dir/active.conf"
  printf '%s\n' "$out" >&2
  exit 1
fi
if cmp -s /tmp/active.prev "$dir/active.conf"; then
  echo "unchanged"
else
  nginx -s reload 2>/dev/null
  echo "reloaded"
fi
