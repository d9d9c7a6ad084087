#!/bin/sh
# Install the Okta LDAP Agent .deb from $1 (packages/) or download it from $2; refuse anything else.
set -eu
dir=$1
url=${2:-}
deb=$(find "$dir" -maxdepth 1 -name 'OktaLDAPAgent-*.deb' | sort | tail -n 1)
if [ -z "$deb" ]; then
  if [ -z "$url" ]; then
    echo "okta-ldap-agent: no packages/OktaLDAPAgent-*.deb and no OKTA_LDAP_AGENT_URL" >&2
    exit 1
  fi
  deb=$dir/OktaLDAPAgent-download.deb
  echo "okta-ldap-agent: downloading the agent from OKTA_LDAP_AGENT_URL"
  curl -fsSL --proto '=https' -o "$deb" "$url"
fi
name=$(basename "$deb")
if ! dpkg-deb --info "$deb" >/dev/null 2>&1; then
  echo "okta-ldap-agent: $name is not a valid .deb package; download it again from the Okta admin console" >&2
  exit 1
fi
if [ "$(dpkg-deb --field "$deb" Package)" = "" ]; then
  echo "okta-ldap-agent: $name has no package name" >&2
  exit 1
fi
dpkg -i "$deb" >/dev/null
home=/opt/Okta/OktaLDAPAgent
# The conf folder is bind-mounted from data/; keep the packaged defaults to seed it.
[ -d "$home/conf" ] && cp -a "$home/conf" "$home/conf.dist"
echo "okta-ldap-agent: installed $name"
