#!/bin/bash
# Healthy when the application user can run a real query through TCP. Before that, re-apply the
# schema/views/routines if the rendered SQL changed since the last apply (so a re-render by
# `lab up` upgrades a running database without a restart).
set -eu
lab-db-apply --if-changed >/dev/null
PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=10 exec psql -h 127.0.0.1 -U "$POSTGRES_USER" \
  -d "$POSTGRES_DATABASE" -tA -v ON_ERROR_STOP=1 -c 'SELECT COUNT(*) FROM ENTITLEMENTS' >/dev/null
