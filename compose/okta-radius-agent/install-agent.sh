#!/bin/sh
# Install the Okta RADIUS agent .deb from $1 (packages/) or download it from $2. The package's
# post-install asks questions (registration), so it is unpacked, its postinst removed, then
# configured; the packaged config is kept aside to seed the persisted one.
set -eu
dir=$1
url=${2:-}
home=/opt/okta/ragent
deb=$(find "$dir" -maxdepth 1 -name 'OktaRadiusAgentSetup-*.deb' | sort | tail -n 1)
if [ -z "$deb" ]; then
  if [ -z "$url" ]; then
    echo "okta-radius-agent: no packages/OktaRadiusAgentSetup-*.deb and no OKTA_RADIUS_AGENT_URL" >&2
    exit 1
  fi
  deb=$dir/OktaRadiusAgentSetup-download.deb
  echo "okta-radius-agent: downloading the agent from OKTA_RADIUS_AGENT_URL"
  curl -fsSL --proto '=https' -o "$deb" "$url"
fi
name=$(basename "$deb")
if ! dpkg-deb --info "$deb" >/dev/null 2>&1; then
  echo "okta-radius-agent: $name is not a valid .deb package; download it again from the Okta admin console" >&2
  exit 1
fi
pkg=$(dpkg-deb --field "$deb" Package)
if [ "$pkg" != ragent ]; then
  echo "okta-radius-agent: $name contains package '$pkg', expected 'ragent'" >&2
  exit 1
fi
dpkg --unpack "$deb" >/dev/null
rm -f /var/lib/dpkg/info/ragent.postinst
dpkg --configure ragent >/dev/null
id OktaRadiusService >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin OktaRadiusService
install -d /usr/local/share/okta-lab/radius-defaults
cp -a "$home/user/config/radius/." /usr/local/share/okta-lab/radius-defaults/
echo "okta-radius-agent: installed $name (post-install skipped: registration is \`lab configure okta-radius-agent\`)"
