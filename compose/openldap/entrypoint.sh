#!/bin/sh
# okta-lab openldap entrypoint.
# First start with an empty /data: generate the lab CA and server certificate, build cn=config
# (MDB, ACLs, indexes, memberof + refint,
# ppolicy hashing clear-text passwords, TLS), load the rendered LDIF from /lab/ldif, then run.
# The data is loaded offline with slapadd; memberOf is written into it (overlays do not run there).
# Later starts: just run. slapd drops to the `openldap` user after opening its sockets.
set -eu

DATA=/data
CONF=$DATA/slapd.d
DB=$DATA/db
CERTS=$DATA/certs
DONE=$DATA/.initialised
RUN=/run/slapd
SETUP_SOCK=ldapi://%2Frun%2Fslapd%2Fsetup
FINAL_SOCK=ldapi://%2Frun%2Fslapd%2Fldapi
: "${LDAP_BASE_DN:?LDAP_BASE_DN is required}"
: "${LDAP_DOMAIN:?LDAP_DOMAIN is required}"
: "${LDAP_ORGANIZATION:=$LDAP_DOMAIN}"
: "${LDAP_CERT_HOSTNAME:=}"

log() { echo "openldap: $*"; }

hash_secret() {
  # slappasswd -T reads the secret from a file, so it never appears in a process listing.
  umask 077
  printf '%s' "$1" > "$RUN/.pw"
  slappasswd -h '{SSHA}' -T "$RUN/.pw"
  rm -f "$RUN/.pw"
}

make_certs() {
  install -d -o openldap -g openldap -m 0755 "$CERTS"
  install -d -m 0700 "$CERTS/private"
  [ -s "$CERTS/ca.crt" ] && [ -s "$CERTS/server.crt" ] && return 0
  log "generating the lab CA and a server certificate"
  san="DNS:openldap,DNS:localhost,IP:127.0.0.1"
  if [ -n "$LDAP_CERT_HOSTNAME" ] && [ "$LDAP_CERT_HOSTNAME" != openldap ]; then
    san="$san,DNS:$LDAP_CERT_HOSTNAME"
  fi
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -keyout "$CERTS/private/ca.key" -out "$CERTS/ca.crt" \
    -subj "/CN=okta-lab CA $LDAP_DOMAIN" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=openldap" \
    -keyout "$CERTS/server.key" -out "$CERTS/private/server.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n%s\n' \
    "extendedKeyUsage=serverAuth" "subjectAltName=$san" > "$CERTS/private/server.ext"
  openssl x509 -req -sha256 -days 825 -in "$CERTS/private/server.csr" \
    -CA "$CERTS/ca.crt" -CAkey "$CERTS/private/ca.key" -CAcreateserial \
    -extfile "$CERTS/private/server.ext" -out "$CERTS/server.crt" 2>/dev/null
  chown openldap:openldap "$CERTS/server.key" "$CERTS/server.crt"
  chmod 0600 "$CERTS/server.key"
  chmod 0644 "$CERTS/ca.crt" "$CERTS/server.crt"
  log "CA certificate exported to data/openldap/certs/ca.crt (SAN ${san})"
}

write_config() {
  admin_hash=$(hash_secret "$LDAP_ADMIN_PASSWORD")
  config_hash=$(hash_secret "$LDAP_CONFIG_PASSWORD")
  root="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"
  admin="cn=admin,$LDAP_BASE_DN"
  {
    cat <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $RUN/slapd.pid
olcArgsFile: $RUN/slapd.args
olcLogLevel: ${LDAP_LOG_LEVEL:-none}
olcTLSCACertificateFile: $CERTS/ca.crt
olcTLSCertificateFile: $CERTS/server.crt
olcTLSCertificateKeyFile: $CERTS/server.key
olcTLSProtocolMin: 3.3
olcTLSVerifyClient: never

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}memberof
olcModuleLoad: {2}refint
olcModuleLoad: {3}ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

LDIF
    for schema in core cosine nis inetorgperson; do
      grep -v '^#' "/etc/ldap/schema/$schema.ldif"
      echo
    done
    cat <<LDIF
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcPasswordHash: {SSHA}
olcAccess: {0}to dn.base="" by * read
olcAccess: {1}to dn.base="cn=Subschema" by users read by * none

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $config_hash
olcAccess: {0}to * by dn.exact="$root" manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $LDAP_BASE_DN
olcRootDN: $admin
olcRootPW: $admin_hash
olcDbDirectory: $DB
olcDbMaxSize: 4294967296
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,mail,sn,givenName eq,pres,sub
olcDbIndex: uniqueMember,memberOf,manager eq
olcDbIndex: entryUUID,entryCSN eq
olcLimits: dn.exact="$admin" size=unlimited time=unlimited
olcAccess: {0}to attrs=userPassword by dn.exact="$root" manage by dn.exact="$admin" manage by self write by anonymous auth by * none
olcAccess: {1}to * by dn.exact="$root" manage by dn.exact="$admin" manage by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcConfig
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfDangling: ignore
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfUniqueNames
olcMemberOfMemberAD: uniqueMember
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcConfig
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: uniqueMember
olcRefintAttribute: manager

dn: olcOverlay={2}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcConfig
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {2}ppolicy
olcPPolicyDefault: cn=default,ou=pwpolicy,$LDAP_BASE_DN
olcPPolicyHashCleartext: TRUE
LDIF
  } > "$RUN/config.ldif"
  slapadd -q -n0 -F "$CONF" -l "$RUN/config.ldif" >/dev/null
  rm -f "$RUN/config.ldif"
}

with_member_of() {
  # Overlays do not run under slapadd, so memberOf is written here: the LDIF is unfolded
  # (RFC 2849 continuation lines), then every entry named by a group's uniqueMember gets a
  # memberOf naming that group. DNs are compared as rendered (same spelling on both sides).
  awk '/^ / { buf = buf substr($0, 2); next } { if (NR > 1) print buf; buf = $0 } END { print buf }' \
    > "$1.unfolded"
  awk '
    FNR == 1 { pass++ }
    pass == 1 {
      if ($0 ~ /^dn::? /) dn = substr($0, 3)
      else if ($0 ~ /^uniqueMember::? /) { m = substr($0, 13); of[m] = of[m] "memberOf" dn "\n" }
      next
    }
    /^dn::? / { cur = substr($0, 3) }
    /^$/ { if (cur in of) printf "%s", of[cur]; cur = "" }
    { print }
    END { if (cur in of) printf "%s", of[cur] }
  ' "$1.unfolded" "$1.unfolded" > "$1"
  rm -f "$1.unfolded"
}

load_data() {
  # Offline load (slapadd -q) into the new, empty database: no slapd, no per-entry round trips.
  ldif=$DATA/.initial.ldif
  for file in /lab/ldif/*.ldif; do
    [ -e "$file" ] || continue
    log "loading $(basename "$file")" >&2
    cat "$file"
    echo
  done | with_member_of "$ldif"
  if [ ! -s "$ldif" ] || ! grep -q '^dn' "$ldif"; then
    log "no LDIF in /lab/ldif: creating only the suffix entry"
    printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: %s\no: %s\n' \
      "$LDAP_BASE_DN" "${LDAP_DOMAIN%%.*}" "$LDAP_ORGANIZATION" > "$ldif"
  fi
  slapadd -q -F "$CONF" -b "$LDAP_BASE_DN" -l "$ldif" >/dev/null
  rm -f "$ldif"
  chown -R openldap:openldap "$CONF" "$DB"
}

install -d -o openldap -g openldap -m 0755 "$RUN"
if [ ! -e "$DONE" ]; then
  : "${LDAP_ADMIN_PASSWORD:?LDAP_ADMIN_PASSWORD is required on first start}"
  : "${LDAP_CONFIG_PASSWORD:?LDAP_CONFIG_PASSWORD is required on first start}"
  log "first start: configuring $LDAP_BASE_DN"
  rm -rf "$CONF" "$DB"  # a half-finished earlier attempt is started over
  install -d -o openldap -g openldap -m 0750 "$CONF" "$DB"
  make_certs
  write_config
  load_data
  date -u +%Y-%m-%dT%H:%M:%SZ > "$DONE"
  log "first start complete"
fi

# Data restored or copied by hand may have lost its owner: slapd must own what it serves.
chown -R openldap:openldap "$CONF" "$DB"
chown openldap:openldap "$CERTS/server.key" "$CERTS/server.crt"
log "serving $LDAP_BASE_DN on 1389 (ldap) and 1636 (ldaps)"
exec /usr/sbin/slapd -h "ldap://:1389/ ldaps://:1636/ $FINAL_SOCK" \
  -u openldap -g openldap -F "$CONF" -d 0
