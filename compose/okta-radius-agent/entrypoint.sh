#!/bin/sh
# Seed the persisted config once from the packaged defaults (with a push-sized MFA timeout), wait
# (saying so) until `lab configure okta-radius-agent` has registered the agent, then run it.
set -eu
home=/opt/okta/ragent
conf=$home/user/config/radius
lib=/var/lib/ragent
status=$lib/lab-status
: "${RADIUS_MFA_TIMEOUT:=60}"
log() { echo "okta-radius-agent: $*"; }

install -d "$conf" "$lib" "$home/logs"
if [ ! -s "$conf/config.properties" ]; then
  cp -an /usr/local/share/okta-lab/radius-defaults/. "$conf/"
  touch "$conf/config.properties"
  log "config seeded from the package's defaults into data/okta-radius-agent/config"
fi
if ! grep -q '^ragent.mfa.timeout.seconds' "$conf/config.properties"; then
  printf '\nragent.mfa.timeout.seconds = %s\n' "$RADIUS_MFA_TIMEOUT" >> "$conf/config.properties"
  log "MFA timeout set to $RADIUS_MFA_TIMEOUT s (RADIUS_TIMEOUT)"
fi
[ -e "$lib/additional-config.properties" ] || : > "$lib/additional-config.properties"
chown -R OktaRadiusService "$conf" "$lib" "$home/logs"

said=0
until [ -s "$lib/.lab-registered" ]; do
  echo "waiting for registration" > "$status"
  if [ "$said" = 0 ]; then
    log "waiting for registration: run \`lab configure okta-radius-agent\` and open the URL it prints"
    said=1
  fi
  sleep 3
done
log "registered; starting the agent"
echo "running" > "$status"
java=$home/jre/linux/bin/java
"$java" -Dlog4j.configurationFile="$conf/log4j2.xml" -jar "$home/bin/OKTARadiusAgent.jar" "$conf/config.properties" &
pid=$!
trap 'kill "$pid" 2>/dev/null' TERM INT
touch "$home/logs/okta_radius.log"
tail -F "$home/logs/okta_radius.log" &
wait "$pid"
