#!/bin/sh
# Build step: trust extra CAs, install OS prerequisites (RHEL family), install the SCIM server RPM,
# drop what its %post generated (generated at runtime instead, once, under data/), and add the
# MySQL JDBC driver (downloaded from Maven Central when MYSQL_CONNECTOR_VERSION is set).
set -eu
. /usr/local/lib/okta-lab/agentlib.sh
packages=$1
cas=$2
home=/opt/OktaOnPremScimServer

trust_cas "$cas"
if command -v microdnf >/dev/null 2>&1; then
  microdnf install -y --nodocs java-21-openjdk-headless openssl hostname procps-ng curl ca-certificates shadow-utils >/dev/null
  microdnf clean all >/dev/null
fi
export CUSTOMER_ID OKTA_EULA_ACCEPT=true
install_rpm "$packages" 'OktaOnPremScimServer-*.rpm' OktaOnPremScimServer
rm -rf /etc/OktaOnPremScimServer/* /var/log/OktaOnPremScimServer/*
rm -f /etc/pki/tls/certs/OktaOnPremScimServer-* /etc/pki/tls/private/OktaOnPremScimServer-*
mkdir -p "$home/userlib" "$home/certs"
add_jars "$packages" "$home/userlib"

version=${MYSQL_CONNECTOR_VERSION:-}
if [ -n "$version" ] && ! ls "$home"/userlib/mysql-connector-j-*.jar >/dev/null 2>&1; then
  jar=$home/userlib/mysql-connector-j-$version.jar
  url=https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/$version/mysql-connector-j-$version.jar
  if curl -fsSL --proto '=https' -o "$jar" "$url" && is_jar "$jar"; then
    agent_log "added MySQL Connector/J $version (GPLv2 with the FOSS exception; not redistributed)"
  else
    rm -f "$jar"
    agent_log "could not download MySQL Connector/J $version: put mysql-connector-j-*.jar in packages/"
  fi
fi
