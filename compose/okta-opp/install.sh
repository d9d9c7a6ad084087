#!/bin/sh
# Build step: trust extra CAs, install OS prerequisites (RHEL family), install the agent RPM, and
# keep its packaged conf/ to seed the bind-mounted one.
set -eu
. /usr/local/lib/okta-lab/agentlib.sh
packages=$1
cas=$2
home=/opt/OktaProvisioningAgent

trust_cas "$cas"
if command -v microdnf >/dev/null 2>&1; then
  microdnf install -y --nodocs ca-certificates libXt openssl hostname procps-ng >/dev/null
  microdnf clean all >/dev/null
fi
export OKTA_EULA_ACCEPT=true
install_rpm "$packages" 'OktaProvisioningAgent-*.rpm' OktaProvisioningAgent
if [ -d "$home/conf" ]; then
  rm -rf "$home/conf.dist"
  cp -a "$home/conf" "$home/conf.dist"
fi
