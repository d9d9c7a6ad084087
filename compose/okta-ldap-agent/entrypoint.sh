#!/bin/sh
# Write the answers file, trust the lab CA, wait (saying so) until registered, then run the agent.
set -eu
home=/opt/Okta/OktaLDAPAgent
lib=/var/lib/oktaldapagent
conf=$home/conf
status=$lib/lab-status
: "${OKTA_ORG:?OKTA_ORG is required (your Okta org host, e.g. myorg.okta.com)}"
: "${LDAP_BASE_DN:?LDAP_BASE_DN is required}"
: "${LDAP_HOST:=openldap}"
: "${LDAP_SSL_PORT:=1636}"
: "${LAB_CA:=/certs/ca.crt}"

log() { echo "okta-ldap-agent: $*"; }

install -d "$conf" "$lib/security" "$home/logs"
[ -d "$home/conf.dist" ] && cp -an "$home/conf.dist/." "$conf/"

cat > "$conf/InstallOktaLDAPAgent.conf" <<CONF
orgUrl=https://$OKTA_ORG/
ldapHost=$LDAP_HOST
ldapAdminDN=cn=admin,$LDAP_BASE_DN
ldapPort=$LDAP_SSL_PORT
ldapSSLPort=$LDAP_SSL_PORT
baseDN=$LDAP_BASE_DN
ldapUseSSL=true
proxyEnabled=false
sslPinningEnabled=true
CONF
log "answers file written (org https://$OKTA_ORG/, ldaps://$LDAP_HOST:$LDAP_SSL_PORT, $LDAP_BASE_DN)"

if [ ! -s "$LAB_CA" ]; then
  log "the lab CA $LAB_CA is missing: start openldap first"
  exit 1
fi
keytool=$home/jre/bin/keytool
cacerts=$home/jre/lib/security/cacerts
if [ -x "$keytool" ]; then
  "$keytool" -delete -alias okta-lab-ca -keystore "$cacerts" -storepass changeit >/dev/null 2>&1 || true
  "$keytool" -importcert -noprompt -trustcacerts -alias okta-lab-ca -file "$LAB_CA" \
    -keystore "$cacerts" -storepass changeit >/dev/null
  log "lab CA imported into the agent's JRE trust store"
else
  log "no bundled JRE keytool at $keytool: cannot import the lab CA"
  exit 1
fi
if id OktaLDAPService >/dev/null 2>&1; then
  chown -R OktaLDAPService "$lib" "$home/logs"
fi

registered() {
  grep -q '^orgUrl *=' "$conf/OktaLDAPAgent.conf" 2>/dev/null \
    && grep -q '^keystoreKey *=' "$lib/AdditionalOktaLDAPAgent.conf" 2>/dev/null \
    && [ -s "$lib/security/OktaLdapKeystore.p12" ]
}

said=0
until registered; do
  echo "waiting for registration" > "$status"
  if [ "$said" = 0 ]; then
    log "waiting for registration: run \`lab configure okta-ldap-agent\` and open the URL it prints"
    said=1
  fi
  sleep 5
done
log "registered; starting the agent"
echo "running" > "$status"
"$home/scripts/OktaLDAPAgent" &
touch "$home/logs/agent.log"
exec tail -F "$home/logs/agent.log"
