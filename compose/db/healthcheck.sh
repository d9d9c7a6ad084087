#!/bin/bash
# Healthy when the application user can run a real query through TCP. Before that, re-apply the
# schema/views/procedures if the rendered SQL changed since the last apply (so a re-render by
# `lab up` upgrades a running database without a restart).
set -eu
lab-db-apply --if-changed >/dev/null
if [ "${LAB_DB_PROFILE:-lab}" = glpi ]; then  # GLPI's user reads the time zone names it was granted
  n=$(MYSQL_PWD=$MARIADB_PASSWORD mariadb --protocol=tcp -h 127.0.0.1 -u "$MARIADB_USER" -N -B \
    -e 'SELECT COUNT(*) FROM mysql.time_zone_name')
  exec test "$n" -gt 0
fi
MYSQL_PWD=$MARIADB_PASSWORD exec mariadb --protocol=tcp -h 127.0.0.1 -u "$MARIADB_USER" \
  -N -B "$MARIADB_DATABASE" -e 'SELECT COUNT(*) FROM ENTITLEMENTS' >/dev/null
