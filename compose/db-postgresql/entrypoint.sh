#!/bin/bash
# Initialise /var/lib/postgresql/data when empty, bring the database up to date with the rendered
# SQL (schema/views/routines every start, in one transaction; sample data only into an empty
# database), then run postgres in the foreground as the postgres user.
set -euo pipefail
DATA=/var/lib/postgresql/data
PG=${PGBIN:-/usr/lib/postgresql/15/bin}
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

lab-db-apply --check-env
install -d -o postgres -g postgres -m 2775 /run/postgresql
chown postgres:postgres "$DATA"
chmod 0700 "$DATA"

if [ ! -s "$DATA/PG_VERSION" ]; then
  echo "db: first start, initialising $DATA"
  as_pg "$PG/initdb" -D "$DATA" -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
    -U postgres >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "password_encryption = 'scram-sha-256'"
  } >> "$DATA/postgresql.conf"
  # TCP: password logins only (the admin role has none unless POSTGRES_ADMIN_PASSWORD is set).
  printf 'local all all peer\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
    > "$DATA/pg_hba.conf"
fi

as_pg "$PG/pg_ctl" -D "$DATA" -o "-c listen_addresses=''" -w -t 120 start >/dev/null
stop_temp() { as_pg "$PG/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true; }

if ! lab-db-apply --seed; then
  echo "db: applying the lab SQL failed; see the error above" >&2
  stop_temp
  exit 1
fi
stop_temp

echo "db: ready, database ${POSTGRES_DATABASE} for user ${POSTGRES_USER}"
exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG/postgres" -D "$DATA"
