#!/bin/sh
# Healthy when the Status endpoint answers over HTTPS with the generated certificate and token.
# The token goes to curl through stdin (-K -), never through its command line.
set -eu
cid=$CUSTOMER_ID
crt=/opt/OktaOnPremScimServer/certs/OktaOnPremScimServer-$cid.crt
token=$(cat "${SCIM_CONF_DIR:-/etc/OktaOnPremScimServer}/bearer-token")
printf 'header = "Authorization: Bearer %s"\n' "$token" \
  | curl -fsS -K - --cacert "$crt" --max-time 8 \
      https://localhost:1443/ws/rest/jdbc_on_prem/scim/v2/Status \
  | grep -q 'Scim Server is running'
