#!/bin/sh
# Healthy when slapd answers a real search for its own suffix on the final (not the setup) socket.
exec ldapsearch -Q -LLL -Y EXTERNAL -H ldapi://%2Frun%2Fslapd%2Fldapi -b "$LDAP_BASE_DN" -s base dn \
  >/dev/null
