#!/bin/sh
# Placed in the db service's docker-entrypoint-initdb.d by `hossadm restore`.
# The postgres entrypoint runs it once, on the first start of an empty data
# folder, after the stack's own init scripts. It loads the roles and every
# database dump that hossadm left in the backup folder, stopping at the first
# error, and writes a status file that hossadm reads to prove it ran.
# hossadm removes this script once the restore is verified.
set -eu

dir="${HOSSADM_RESTORE_DIR:-/mnt/backup/hossadm-restore}"
status="$dir/status"
user="${POSTGRES_USER:-postgres}"

fail() {
  echo "failed: $1" > "$status"
  echo "hossadm restore: $1" >&2
  exit 1
}

[ -f "$dir/databases" ] || fail "no list of databases in $dir"
echo "running" > "$status"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$user" --dbname postgres --file "$dir/globals.sql" \
  || fail "loading roles from globals.sql"

while IFS= read -r db; do
  [ -n "$db" ] || continue
  case "$db" in *[!A-Za-z0-9_-]*) fail "unsafe database name '$db'" ;; esac
  exists=$(psql --no-psqlrc -tA --username "$user" --dbname postgres -c "select 1 from pg_database where datname = '$db'")
  if [ "$exists" = "1" ]; then
    # Created empty by the stack's own init script: load into it, all or nothing.
    pg_restore --exit-on-error --single-transaction --username "$user" --dbname "$db" "$dir/$db.dump" \
      || fail "pg_restore of $db"
  else
    pg_restore --exit-on-error --create --username "$user" --dbname postgres "$dir/$db.dump" \
      || fail "pg_restore --create of $db"
  fi
  echo "restored $db" >&2
done < "$dir/databases"

echo "ok" > "$status"
