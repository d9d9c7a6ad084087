#!/bin/sh
# `lab configure okta-radius-agent`: the vendor's interactive registration; when it succeeds the
# lab records it in /var/lib/ragent (persisted under data/), which the entrypoint waits for.
set -u
bash /opt/okta/ragent/scripts/configure.sh
rc=$?
if [ "$rc" = 0 ]; then
  date -u +%Y-%m-%dT%H:%M:%SZ > /var/lib/ragent/.lab-registered
  echo "okta-radius-agent: registration recorded; the agent starts now"
else
  echo "okta-radius-agent: the registration script failed ($rc); run \`lab configure okta-radius-agent\` again" >&2
fi
exit "$rc"
