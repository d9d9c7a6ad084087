#!/bin/bash
# lab-db-apply: bring the lab database up to date with the rendered SQL in $LAB_SQL_DIR.
#   lab-db-apply --check-env   validate the environment only
#   lab-db-apply [--seed]      database + app user, then schema, views, procedures (always safe:
#                              CREATE IF NOT EXISTS / CREATE OR REPLACE); --seed loads seed.sql
#                              when USERS, ENTITLEMENTS and USERENTITLEMENTS are all empty
#                              The same schema goes to a second database, ${MARIADB_DATABASE}_verify,
#                              that `lab verify` writes to (a copy of the demo data it may change),
#                              so verification never touches the demo database.
#   lab-db-apply --if-changed  the same, only when the SQL files or the environment changed
#                              (combines with --seed; prints nothing when nothing changed)
# LAB_DB_PROFILE=glpi (service glpi-db): GLPI's own database instead of the lab schema: the
# database, its user with every right on it (GLPI installs and upgrades its own schema), the time
# zone tables loaded, and SELECT on mysql.time_zone_name (GLPI's `database:enable_timezones` needs
# it). No SQL files are read.
# Connects as root over the unix socket; passwords go through stdin, never the command line.
set -euo pipefail

SQL_DIR=${LAB_SQL_DIR:-/etc/lab/sql}
STAMP=${LAB_STAMP:-/var/lib/mysql/.lab-applied}
LOCK=/run/mysqld/lab-apply.lock
MIN_PASSWORD=12
PROFILE=${LAB_DB_PROFILE:-lab}
LAYOUT=4  # bump when what apply() creates changes, so --if-changed applies it again

fail() { echo "db: $*" >&2; exit 2; }

check_env() {
  [[ ${MARIADB_DATABASE:-} =~ ^[A-Za-z_][A-Za-z0-9_]{0,56}$ ]] ||
    fail "MARIADB_DATABASE='${MARIADB_DATABASE:-}' is not a valid database name; use up to 57 letters, digits and underscores, starting with a letter"
  [[ ${MARIADB_USER:-} =~ ^[A-Za-z_][A-Za-z0-9_]{0,31}$ ]] ||
    fail "MARIADB_USER='${MARIADB_USER:-}' is not a valid user name; use up to 32 letters, digits and underscores"
  [ "${#MARIADB_PASSWORD}" -ge "$MIN_PASSWORD" ] 2>/dev/null ||
    fail "MARIADB_PASSWORD is too short (at least $MIN_PASSWORD characters); run \`lab init --force\` to generate one"
  if [ -n "${MARIADB_ROOT_PASSWORD:-}" ] && [ "${#MARIADB_ROOT_PASSWORD}" -lt "$MIN_PASSWORD" ]; then
    fail "MARIADB_ROOT_PASSWORD is too short (at least $MIN_PASSWORD characters)"
  fi
  case $PROFILE in
    lab) ;;
    glpi) return 0 ;;
    *) fail "LAB_DB_PROFILE='$PROFILE' is not a profile; use lab or glpi" ;;
  esac
  for f in schema views procedures seed; do
    [ -r "$SQL_DIR/$f.sql" ] || fail "$SQL_DIR/$f.sql is missing; run \`lab render\`"
  done
}

# SQL string literal: double every quote and backslash.
quote() { local s=${1//\\/\\\\}; s=${s//\'/\'\'}; printf "'%s'" "$s"; }

sql() { mariadb --protocol=socket -uroot "$@"; }

digest() {
  { [ "$PROFILE" = glpi ] || cat "$SQL_DIR"/schema.sql "$SQL_DIR"/views.sql "$SQL_DIR"/procedures.sql
    printf '%s\0' "$PROFILE"
    printf '%s\0' "$LAYOUT" "$MARIADB_DATABASE" "$MARIADB_USER" "$MARIADB_PASSWORD" "${MARIADB_ROOT_PASSWORD:-}"
  } | sha256sum | cut -d' ' -f1
}

bootstrap() {
  local db user pw
  user=$(quote "$MARIADB_USER")
  pw=$(quote "$MARIADB_PASSWORD")
  {
    echo "CREATE USER IF NOT EXISTS $user@'%' IDENTIFIED BY $pw;"
    echo "ALTER USER $user@'%' IDENTIFIED BY $pw;"
    for db in "$MARIADB_DATABASE" "$(verify_db)"; do
      echo "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
      # DML and EXECUTE only: the application user cannot change the schema.
      echo "GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, SHOW VIEW ON \`$db\`.* TO $user@'%';"
    done
    # Routine bodies (DBGate, SHOW CREATE PROCEDURE): MariaDB shows them to the definer or to a
    # reader of mysql.proc only. Reading it is no DDL right.
    echo "GRANT SELECT ON mysql.proc TO $user@'%';"
    if [ -n "${MARIADB_ROOT_PASSWORD:-}" ]; then
      echo "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(quote "$MARIADB_ROOT_PASSWORD"));"
    fi
  } | sql
}

root_password_sql() {
  if [ -n "${MARIADB_ROOT_PASSWORD:-}" ]; then
    echo "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(quote "$MARIADB_ROOT_PASSWORD"));"
  fi
}

# GLPI's database: the user owns it (GLPI creates and migrates its tables) and reads the time
# zone names; nothing else.
apply_glpi() {
  local user pw
  user=$(quote "$MARIADB_USER")
  pw=$(quote "$MARIADB_PASSWORD")
  if [ "$(sql -N -B -e 'SELECT COUNT(*) FROM mysql.time_zone_name')" = 0 ]; then
    mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | sql mysql
    echo "db: time zone tables loaded"
  fi
  {
    echo "CREATE USER IF NOT EXISTS $user@'%' IDENTIFIED BY $pw;"
    echo "ALTER USER $user@'%' IDENTIFIED BY $pw;"
    echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    echo "GRANT ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* TO $user@'%';"
    echo "GRANT SELECT ON mysql.time_zone_name TO $user@'%';"
    root_password_sql
  } | sql
  echo "db: database $MARIADB_DATABASE for GLPI user $MARIADB_USER (time zone names readable)"
  digest > "$STAMP"
}

verify_db() { printf '%s_verify' "$MARIADB_DATABASE"; }

row_count() {
  sql -N -B "$MARIADB_DATABASE" -e \
    "SELECT (SELECT COUNT(*) FROM USERS) + (SELECT COUNT(*) FROM ENTITLEMENTS) + (SELECT COUNT(*) FROM USERENTITLEMENTS)"
}

apply() {
  local seed=$1 f
  bootstrap
  for db in "$MARIADB_DATABASE" "$(verify_db)"; do
    for f in schema views procedures; do
      sql "$db" < "$SQL_DIR/$f.sql"
    done
  done
  echo "db: schema, views and procedures applied to $MARIADB_DATABASE (and $(verify_db) for lab verify)"
  if [ "$seed" = yes ]; then
    if [ "$(row_count)" = 0 ]; then
      sql "$MARIADB_DATABASE" < "$SQL_DIR/seed.sql"
      echo "db: sample data loaded"
    else
      echo "db: data present, seed skipped"
    fi
  fi
  # Fresh optimizer statistics: after a bulk load InnoDB may still estimate USERENTITLEMENTS at
  # one row and scan all of it for `USER_ID IN (...)` (a SCIM list page took 0.1 s at 100,000
  # users instead of ~2 ms). ANALYZE reads a sample of index pages and changes no data.
  sql -N -B "$MARIADB_DATABASE" -e "ANALYZE TABLE USERS, ENTITLEMENTS, USERENTITLEMENTS" >/dev/null
  digest > "$STAMP"
}

main() {
  local seed=no if_changed=no arg
  for arg in "$@"; do
    case $arg in
      --check-env) check_env; return 0 ;;
      --seed) seed=yes ;;
      --if-changed) if_changed=yes ;;
      *) echo "usage: lab-db-apply [--seed] [--if-changed] | --check-env" >&2; exit 2 ;;
    esac
  done
  check_env
  if [ "$if_changed" = yes ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(digest)" ]; then
    return 0
  fi
  exec 9>"$LOCK"
  flock -w 120 9
  if [ "$PROFILE" = glpi ]; then
    apply_glpi
  else
    apply "$seed"
  fi
}

main "$@"
