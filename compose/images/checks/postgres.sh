#!/bin/sh
# hoss-local/postgres:local against the upstream contract: init scripts of
# every kind, password over TCP, persistence, clean stop, failed init.
check_name=postgres
. "$(dirname "$0")/common.sh"
img=hoss-local/postgres:local
scratch=$(mktemp -d)
mkdir "$scratch/init" "$scratch/bad"

# The stack's kind of script: sourced (not executable), creates databases.
cat >"$scratch/init/10-multi.sh" <<'SH'
for db in $(echo "$POSTGRES_MULTIPLE_DATABASES" | tr ',' ' '); do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE USER $db;
CREATE DATABASE $db;
GRANT ALL PRIVILEGES ON DATABASE $db TO $db;
SQL
done
SH
printf '#!/bin/sh\nset -e\npsql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d hoss_core -c "create table ran_exec(x int)"\n' >"$scratch/init/20-exec.sh"
chmod +x "$scratch/init/20-exec.sh"
printf 'create table t(id int primary key, name text);\ninsert into t values (1, %s);\n' "'héllo'" >"$scratch/init/30-seed.sql"
printf 'insert into t values (2, %s);\n' "'gz'" | gzip >"$scratch/init/40-more.sql.gz"
printf 'ignored\n' >"$scratch/init/50-readme.txt"

pg() { docker exec "$prefix-db" "$@"; }

step "first start with init scripts"
docker volume create "$prefix-data" >/dev/null
docker run -d --name "$prefix-db" --network "$net" --hostname db \
  -e POSTGRES_PASSWORD='s3cr et!' -e POSTGRES_DB=app \
  -e POSTGRES_MULTIPLE_DATABASES=hoss_core,hoss_auth \
  -v "$prefix-data:/var/lib/postgresql/data" -v "$scratch/init:/docker-entrypoint-initdb.d:ro" \
  "$img" >/dev/null
wait_for 60 sh -c "docker logs $prefix-db 2>&1 | grep -q 'init process complete' || [ \"\$(docker inspect -f '{{.State.Running}}' $prefix-db)\" = false ]" \
  && docker logs "$prefix-db" 2>&1 | grep -q 'init process complete' \
  || { docker logs "$prefix-db" 2>&1 | tail -20 >&2; fail "init did not complete"; }
wait_for 30 pg pg_isready -h 127.0.0.1 -q || fail "pg_isready after init"
step "ready ${waited}s after init"

ip=$(ip_of "$prefix-db")
q() { docker run --rm --network "$net" -e PGPASSWORD="$1" "$img" psql -h "$ip" -U postgres -d "$2" -tAc "$3"; }
[ "$(q 's3cr et!' app "select string_agg(name, ',' order by id) from t")" = "héllo,gz" ] || fail "seed rows over TCP"
[ "$(q 's3cr et!' hoss_core "select count(*) from pg_tables where tablename='ran_exec'")" = 1 ] || fail "executable init script"
[ "$(q 's3cr et!' postgres "select string_agg(datname, ',' order by datname) from pg_database where datname like 'hoss%'")" = "hoss_auth,hoss_core" ] \
  || fail "sourced init script databases"
if q wrong app 'select 1' >/dev/null 2>&1; then fail "wrong password accepted over TCP"; fi
[ "$(pg id -u postgres):$(pg stat -c %u:%g:%a /var/lib/postgresql/data)" = "70:70:70:700" ] || fail "uid 70 / mode 700 of PGDATA"
[ "$(pg sh -c 'command -v pg_dump')" = /usr/lib/postgresql/15/bin/pg_dump ] || fail "pg_dump on PATH"
[ "$(pg cat /proc/1/comm)" = postgres ] || fail "postgres is not PID 1"
pg sh -c 'pg_dump -U postgres -Fc app >/tmp/app.dump && pg_restore -l /tmp/app.dump | grep -q "TABLE DATA public t"' || fail "pg_dump -Fc round"
step "TCP password auth, init scripts, uid 70, PID 1, pg_dump: ok"

pg psql -U postgres -d app -qc "insert into t values (3, 'after')"
timed_stop "$prefix-db"
[ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker logs "$prefix-db" 2>&1 | tail -3 | grep -q 'database system is shut down' || fail "no clean shutdown in log"

step "restart on the same volume"
docker start "$prefix-db" >/dev/null
wait_for 30 pg pg_isready -h 127.0.0.1 -q || fail "pg_isready after restart"
[ "$(pg psql -U postgres -d app -tAc 'select count(*) from t')" = 3 ] || fail "rows after restart"
[ "$(docker logs "$prefix-db" 2>&1 | grep -c 'init process complete')" = 1 ] || fail "init ran twice"
docker rm -f "$prefix-db" >/dev/null
step "persistence: ok"

step "missing password"
if docker run --rm -v "$prefix-nopw:/var/lib/postgresql/data" "$img" >"$scratch/out" 2>&1; then fail "started without a password"; fi
grep -q POSTGRES_PASSWORD "$scratch/out" || fail "no hint about POSTGRES_PASSWORD"

step "failing init script leaves the data folder"
printf 'select 1;\nselect * from no_such_table;\n' >"$scratch/bad/10-broken.sql"
docker volume create "$prefix-bad" >/dev/null
docker run -d --name "$prefix-bad" -e POSTGRES_PASSWORD=x \
  -v "$prefix-bad:/var/lib/postgresql/data" -v "$scratch/bad:/docker-entrypoint-initdb.d:ro" "$img" >/dev/null
wait_for 60 sh -c "[ \"\$(docker inspect -f '{{.State.Running}}' $prefix-bad)\" = false ]" || fail "broken init kept running"
code=$(docker inspect -f '{{.State.ExitCode}}' "$prefix-bad")
[ "$code" != 0 ] || fail "broken init exited 0"
docker run --rm -v "$prefix-bad:/d" hoss-local/busybox:local test -s /d/PG_VERSION || fail "data folder removed after failed init"
docker start "$prefix-bad" >/dev/null
wait_for 30 docker exec "$prefix-bad" pg_isready -q || fail "restart after failed init"
docker exec "$prefix-bad" psql -U postgres -tAc 'select 1' >/dev/null
step "failed init: exit $code, data left, restart skips init: ok"
step PASS
