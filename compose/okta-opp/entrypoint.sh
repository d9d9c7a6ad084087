#!/bin/sh
# Runtime: trust CAs from /packages, prepare conf/security/logs (bind-mounted from data/), wait
# (saying so, and reporting it to the healthcheck) until the agent is registered with
# `lab configure okta-opp`, then run the agent in the foreground.
set -eu
. /usr/local/lib/okta-lab/agentlib.sh
home=/opt/OktaProvisioningAgent
conf=$home/conf
status=${OPP_STATUS_FILE:-/run/okta-lab-status}
poll=${OPP_POLL_SECONDS:-5}

mkdir -p "$conf" "$home/security" "$home/logs"
[ -d "$home/conf.dist" ] && cp -an "$home/conf.dist/." "$conf/" 2>/dev/null || true
[ -d /packages ] && trust_cas /packages
settings=$conf/settings.conf
touch "$settings" "$home/logs/agent.log"
if grep -q '^JAVA_OPTS=' "$settings"; then
  sed -i 's/^JAVA_OPTS=.*/JAVA_OPTS="-Xmx2048m -Dhttps.protocols=TLSv1.2"/' "$settings"
else
  echo 'JAVA_OPTS="-Xmx2048m -Dhttps.protocols=TLSv1.2"' >> "$settings"
fi
[ -d "$home/jre/bin" ] && chmod 0755 "$home"/jre/bin/* 2>/dev/null || true
if id provisioningagent >/dev/null 2>&1; then
  chown -R provisioningagent "$conf" "$home/security" "$home/logs"
fi

registered() {
  f=$conf/OktaProvisioningAgent.conf
  for key in orgUrl agentId keystoreKey keyPassword env subdomain agentKey; do
    grep -q "^$key *=" "$f" 2>/dev/null || return 1
  done
  [ -f "$settings" ] && [ -s "$home/security/OktaProvisioningKeystore.p12" ]
}

said=0
until registered; do
  echo "waiting for registration" > "$status"
  if [ "$said" = 0 ]; then
    agent_log "waiting for registration: run \`lab configure okta-opp\` and open the URL it prints"
    said=1
  fi
  sleep "$poll"
done
agent_log "registered; starting the agent"
echo $$ > "$status.pid"  # exec keeps this PID: the healthcheck watches the agent through it
echo "running" > "$status"
exec "$home/OktaProvisioningAgent"
