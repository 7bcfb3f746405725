#!/bin/sh
# Runs once, when the entrypoint initialises an empty data folder. HOSS keeps
# each service's tables in its own database: for every name in
# POSTGRES_MULTIPLE_DATABASES this makes a login role and a database of that
# name. As in the deployed stack, the database stays owned by POSTGRES_USER
# (the services connect as that user) and the role is granted all
# privileges on it.
set -eu

[ -n "${POSTGRES_MULTIPLE_DATABASES:-}" ] || exit 0
echo "create-databases: $POSTGRES_MULTIPLE_DATABASES"
for name in $(printf '%s' "$POSTGRES_MULTIPLE_DATABASES" | tr ',' ' '); do
  # psql quotes the :"name" variable as an identifier, so any name is safe.
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres -v name="$name" <<'SQL'
CREATE ROLE :"name" LOGIN;
CREATE DATABASE :"name";
GRANT ALL PRIVILEGES ON DATABASE :"name" TO :"name";
SQL
done
