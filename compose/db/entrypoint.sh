#!/bin/bash
# Initialise /var/lib/mysql when empty, bring the database up to date with the rendered SQL
# (schema/views/procedures every start; sample data only into an empty database), then run
# mariadbd in the foreground as the mysql user.
set -euo pipefail
DATA=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

lab-db-apply --check-env
install -d -o mysql -g mysql -m 0755 /run/mysqld
chown mysql:mysql "$DATA"

if [ ! -d "$DATA/mysql" ]; then
  echo "db: first start, initialising $DATA"
  mariadb-install-db --user=mysql --datadir="$DATA" --auth-root-authentication-method=socket \
    --skip-test-db >/dev/null
fi

mariadbd --user=mysql --datadir="$DATA" --skip-networking --socket="$SOCKET" &
pid=$!
stop_temp() { mariadb-admin --protocol=socket -uroot shutdown 2>/dev/null || kill "$pid"; wait "$pid" || true; }
for _ in $(seq 120); do
  mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "db: mariadbd did not start" >&2; exit 1; }
  sleep 0.5
done

if ! lab-db-apply --seed; then
  echo "db: applying the lab SQL failed; see the error above" >&2
  stop_temp
  exit 1
fi
stop_temp

echo "db: ready (${LAB_DB_PROFILE:-lab} profile), database ${MARIADB_DATABASE} for user ${MARIADB_USER}"
exec mariadbd --user=mysql --datadir="$DATA" --bind-address=0.0.0.0 --port=3306 --socket="$SOCKET"
