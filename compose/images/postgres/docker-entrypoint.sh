#!/bin/bash
# Entry point with the upstream postgres image's contract:
#   POSTGRES_USER (postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (= user),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (scram-sha-256), PGDATA.
# An empty PGDATA is initialised and /docker-entrypoint-initdb.d run once.
# Bash, because init scripts are sourced into it and upstream's are bash.
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# `docker run image -c foo=bar` means options for postgres.
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" != postgres ]; then
  exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# Root only prepares folders, then comes back as postgres (uid 70), keeping
# postgres itself as PID 1 so docker stop's signal reaches it directly.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chmod 00700 "$PGDATA" || :
  chmod 03775 /run/postgresql || :
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  find /run/postgresql \! -user postgres -exec chown postgres '{}' +
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
  exec "$@"
fi

# --- first start: the data folder is empty --------------------------------

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export POSTGRES_USER POSTGRES_DB

if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
  die "POSTGRES_PASSWORD is not set; set it, or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one"
fi
if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
  die "$PGDATA is not empty but has no PG_VERSION; refusing to initialise over it"
fi

# The password travels through a private file, never argv.
pwfile=$(mktemp)
printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
  --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
  $POSTGRES_INITDB_ARGS
rm -f "$pwfile"
printf '\n%s\n' "host all all all $POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

# A server on the unix socket only: nothing outside can connect while the
# init scripts run.
export PGHOST=/run/postgresql PGPORT=5432
export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD:-}}"
pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start

# For sourced scripts: `docker_process_sql <file` and "${psql[@]}" as upstream.
docker_process_sql() {
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
    --dbname "${POSTGRES_DB_FOR_SQL:-$POSTGRES_DB}" "$@"
}
psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
psql=("${psql_cmd[@]}")

if [ "$POSTGRES_DB" != postgres ]; then
  POSTGRES_DB_FOR_SQL=postgres docker_process_sql --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
fi
psql+=(--dbname "$POSTGRES_DB")

shopt -s nullglob
for f in /docker-entrypoint-initdb.d/*; do
  case "$f" in
    *.sh)
      if [ -x "$f" ]; then
        log "running $f"
        "$f"
      else
        log "sourcing $f"
        . "$f"
      fi
      ;;
    *.sql)     log "running $f"; docker_process_sql -f "$f" ;;
    *.sql.gz)  log "running $f"; gunzip -c "$f" | docker_process_sql ;;
    *.sql.xz)  log "running $f"; xzcat "$f" | docker_process_sql ;;
    *.sql.zst) log "running $f"; zstd -dc "$f" | docker_process_sql ;;
    *)         log "ignoring $f" ;;
  esac
done
shopt -u nullglob

pg_ctl -D "$PGDATA" -m fast -w stop
unset PGPASSWORD PGHOST
log "PostgreSQL init process complete; ready for start up."

exec "$@"
