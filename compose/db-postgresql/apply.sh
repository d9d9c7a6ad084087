#!/bin/bash
# lab-db-apply (PostgreSQL): bring the lab database up to date with the rendered SQL in $LAB_SQL_DIR.
#   lab-db-apply --check-env   validate the environment only
#   lab-db-apply [--seed]      role + databases, then schema, views and routines in ONE transaction
#                              per database (a failure leaves the database as it was); --seed loads
#                              seed.sql when USERS, ENTITLEMENTS and USERENTITLEMENTS are all empty.
#                              The same schema goes to ${POSTGRES_DATABASE}_verify, refreshed with a
#                              copy of the demo rows, which `lab verify` writes to.
#   lab-db-apply --if-changed  the same, only when the SQL files or the environment changed
#   lab-db-apply --refresh-verify  copy the demo rows into the verify database again (lab verify)
# Connects as the postgres superuser over the unix socket (peer); passwords go through stdin.
set -euo pipefail

SQL_DIR=${LAB_SQL_DIR:-/etc/lab/sql}
STAMP=${LAB_STAMP:-/var/lib/postgresql/data/.lab-applied}
LOCK=/run/postgresql/lab-apply.lock
MIN_PASSWORD=12
LAYOUT=1  # bump when what apply() creates changes, so --if-changed applies it again
TABLES="USERENTITLEMENTS USERS ENTITLEMENTS"

fail() { echo "db: $*" >&2; exit 2; }

check_env() {
  [[ ${POSTGRES_DATABASE:-} =~ ^[A-Za-z_][A-Za-z0-9_]{0,56}$ ]] ||
    fail "POSTGRES_DATABASE='${POSTGRES_DATABASE:-}' is not a valid database name; use up to 57 letters, digits and underscores, starting with a letter"
  [[ ${POSTGRES_USER:-} =~ ^[A-Za-z_][A-Za-z0-9_]{0,31}$ ]] ||
    fail "POSTGRES_USER='${POSTGRES_USER:-}' is not a valid user name; use up to 32 letters, digits and underscores"
  [ "${POSTGRES_USER,,}" != postgres ] || fail "POSTGRES_USER must not be postgres (the application role has no DDL rights)"
  [ "${#POSTGRES_PASSWORD}" -ge "$MIN_PASSWORD" ] 2>/dev/null ||
    fail "POSTGRES_PASSWORD is too short (at least $MIN_PASSWORD characters); run \`lab init --force\` to generate one"
  if [ -n "${POSTGRES_ADMIN_PASSWORD:-}" ] && [ "${#POSTGRES_ADMIN_PASSWORD}" -lt "$MIN_PASSWORD" ]; then
    fail "POSTGRES_ADMIN_PASSWORD is too short (at least $MIN_PASSWORD characters)"
  fi
  for f in schema views procedures seed; do
    [ -r "$SQL_DIR/$f.sql" ] || fail "$SQL_DIR/$f.sql is missing; run \`lab render\`"
  done
}

# SQL string literal (standard_conforming_strings is on: only quotes are doubled).
quote() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
sql() { PGOPTIONS="-c client_min_messages=warning" as_pg psql -X -q -v ON_ERROR_STOP=1 "$@"; }

user() { printf '%s' "${POSTGRES_USER,,}"; }  # unquoted identifiers fold to lower case
verify_db() { printf '%s_verify' "$POSTGRES_DATABASE"; }

digest() {
  { cat "$SQL_DIR"/schema.sql "$SQL_DIR"/views.sql "$SQL_DIR"/procedures.sql
    printf '%s\0' "$LAYOUT" "$POSTGRES_DATABASE" "$POSTGRES_USER" "$POSTGRES_PASSWORD" "${POSTGRES_ADMIN_PASSWORD:-}"
  } | sha256sum | cut -d' ' -f1
}

bootstrap() {
  local db pw u
  u=$(user)
  pw=$(quote "$POSTGRES_PASSWORD")
  {
    echo "SELECT 'CREATE ROLE $u LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$u') \\gexec"
    echo "ALTER ROLE $u WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD $pw;"
    if [ -n "${POSTGRES_ADMIN_PASSWORD:-}" ]; then
      echo "ALTER ROLE postgres WITH PASSWORD $(quote "$POSTGRES_ADMIN_PASSWORD");"
    fi
    for db in "$POSTGRES_DATABASE" "$(verify_db)"; do
      echo "SELECT 'CREATE DATABASE \"$db\" ENCODING ''UTF8'' TEMPLATE template0' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$db') \\gexec"
      echo "REVOKE ALL ON DATABASE \"$db\" FROM PUBLIC;"
      echo "GRANT CONNECT, TEMPORARY ON DATABASE \"$db\" TO $u;"
    done
  } | sql -d postgres
}

# DML and EXECUTE only: the application role owns nothing and cannot change the schema.
grants() {
  local u
  u=$(user)
  cat <<SQL
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO $u;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $u;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA public TO $u;
SQL
}

row_count() {
  sql -tA -d "$POSTGRES_DATABASE" -c \
    "SELECT (SELECT COUNT(*) FROM USERS) + (SELECT COUNT(*) FROM ENTITLEMENTS) + (SELECT COUNT(*) FROM USERENTITLEMENTS)"
}

# The verify database gets the demo rows (replacing its own), so `lab verify` starts from them.
refresh_verify() {
  local t list=""
  for t in $TABLES; do list+="${list:+, }$t"; done
  { echo "BEGIN;"
    echo "TRUNCATE $list;"
    as_pg pg_dump --data-only --no-owner --no-privileges -t users -t entitlements -t userentitlements \
      "$POSTGRES_DATABASE" | grep -v '^SELECT pg_catalog.set_config'
    echo "COMMIT;"
  } | sql -d "$(verify_db)" >/dev/null
}

apply() {
  local seed=$1 db
  bootstrap
  for db in "$POSTGRES_DATABASE" "$(verify_db)"; do
    grants > /tmp/lab-grants.sql
    sql --single-transaction -d "$db" -f "$SQL_DIR/schema.sql" -f "$SQL_DIR/views.sql" \
      -f "$SQL_DIR/procedures.sql" -f /tmp/lab-grants.sql
  done
  echo "db: schema, views and procedures applied to $POSTGRES_DATABASE (and $(verify_db) for lab verify)"
  if [ "$seed" = yes ]; then
    if [ "$(row_count)" = 0 ]; then
      sql -d "$POSTGRES_DATABASE" -f "$SQL_DIR/seed.sql" >/dev/null
      echo "db: sample data loaded"
    else
      echo "db: data present, seed skipped"
    fi
    refresh_verify
  fi
  digest > "$STAMP"
}

main() {
  local seed=no if_changed=no arg
  for arg in "$@"; do
    case $arg in
      --check-env) check_env; return 0 ;;
      --refresh-verify) check_env; refresh_verify; echo "db: $(verify_db) refreshed from $POSTGRES_DATABASE"; return 0 ;;
      --seed) seed=yes ;;
      --if-changed) if_changed=yes ;;
      *) echo "usage: lab-db-apply [--seed] [--if-changed] | --check-env | --refresh-verify" >&2; exit 2 ;;
    esac
  done
  check_env
  if [ "$if_changed" = yes ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(digest)" ]; then
    return 0
  fi
  exec 9>"$LOCK"
  flock -w 120 9
  apply "$seed"
}

main "$@"
