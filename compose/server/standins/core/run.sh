#!/bin/sh
# Stand-in for the HOSS core service. It connects to hoss_core (libpq reads
# PGHOST/PGUSER/PGPASSWORD/PGDATABASE), creates its tables, then writes only
# while the switch file exists, so a stack is quiet by default and tests turn
# writing on for exactly as long as they need it:
#   docker exec <core container> touch /tmp/hoss-core-writing   (on)
#   docker exec <core container> rm -f /tmp/hoss-core-writing   (off)
# HOSS_VERSION picks the release, as an image tag would: 0.2.13 is the base,
# and every later release is a migration in migrations/<version>.sql, run
# after the base tables exist. A version with no release fails to start,
# like a tag that was never published.
set -u
here=/opt/hoss-core
switch=${CORE_WRITE_SWITCH:-/tmp/hoss-core-writing}
stopping=0
# "relation already exists, skipping" on every restart is noise.
export PGOPTIONS='-c client_min_messages=warning'
# sh runs the trap only between commands; sleeping in the background and
# waiting lets a stop request end the wait at once.
trap 'stopping=1' TERM INT
pause() { sleep "$1" & wait $!; }

version=${HOSS_VERSION:-0.2.13}
migration=
if [ "$version" != 0.2.13 ]; then
  migration="$here/migrations/$version.sql"
  if [ ! -f "$migration" ]; then
    echo "core: there is no release $version (known: 0.2.13 $(cd "$here/migrations" && ls | sed 's/\.sql$//' | tr '\n' ' '))"
    exit 1
  fi
fi

until psql -X -q -v ON_ERROR_STOP=1 -f "$here/schema.sql" >/dev/null; do
  [ "$stopping" = 0 ] || exit 0
  echo "core: waiting for the database"
  pause 1
done
if [ -n "$migration" ]; then
  # One transaction: a migration that fails half-way leaves nothing behind.
  if ! psql -X -q -1 -v ON_ERROR_STOP=1 -v version="$version" -f "$migration" >/dev/null; then
    echo "core: migrating $PGDATABASE to $version failed"
    exit 1
  fi
  echo "core: schema of $PGDATABASE migrated to $version"
fi
echo "core $version: tables ready in $PGDATABASE"

writing=0
while [ "$stopping" = 0 ]; do
  if [ -e "$switch" ]; then
    [ "$writing" = 1 ] || { echo "core: writing"; writing=1; }
    # Five transfers per connection: each is its own transaction, and
    # starting psql costs more than the transfers themselves.
    psql -X -q -v ON_ERROR_STOP=1 -f "$here/transfer.sql" -f "$here/transfer.sql" -f "$here/transfer.sql" \
      -f "$here/transfer.sql" -f "$here/transfer.sql" >/dev/null || pause 1
    pause 0.02
  else
    [ "$writing" = 0 ] || { echo "core: quiet"; writing=0; }
    pause 0.5
  fi
done
echo "core: stopped"
