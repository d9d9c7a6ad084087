#!/bin/sh
# Seed the custom code (data/oag-sim/custom.conf) from the lab's default on first start, make the
# last code nginx accepted (active.conf) the one it runs, then run nginx in the foreground.
# A custom.conf that nginx refuses at first start never becomes active: the default snippet
# serves instead, and `lab headerapp reload` says which line is wrong. Files written here belong
# to the owner of the bind-mounted folder (the user who runs `lab`), so they can edit custom.conf.
set -eu
dir=/etc/nginx/okta-lab-custom
default=/etc/nginx/okta-lab/custom.default
owner=$(stat -c %u:%g "$dir")
if [ ! -f "$dir/custom.conf" ]; then
  cp "$default" "$dir/custom.conf"
  chown "$owner" "$dir/custom.conf"
  echo "oag-sim: wrote the default custom code to custom.conf"
fi
if [ ! -f "$dir/active.conf" ]; then
  cp "$dir/custom.conf" "$dir/active.conf"
  chown "$owner" "$dir/active.conf"
  if ! nginx -t -q 2>/tmp/nginx-t.log; then
    cat /tmp/nginx-t.log >&2
    echo "oag-sim: custom.conf is refused by nginx (above); serving the default custom code instead" >&2
    cp "$default" "$dir/active.conf"
  fi
fi
exec nginx -g 'daemon off;'
