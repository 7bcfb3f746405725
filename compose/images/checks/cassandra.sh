#!/bin/sh
# hoss-local/cassandra:local against the upstream contract and the backup
# tools hossadm drives through docker exec: PasswordAuthenticator with cqlsh
# reading a credentials file (no password in argv), an empty bind-mounted
# /var/lib/cassandra re-owned to 999, nodetool flush/snapshot/listsnapshots/
# clearsnapshot/import/drain and sstableloader as the cassandra user,
# persistence across a restart, then a second node seeded by the first.
check_name=cassandra
. "$(dirname "$0")/common.sh"
img=hoss-local/cassandra:local
pw='s3cr"et \x'   # the default superuser's password after the ALTER below
scratch=$(mktemp -d)
mkdir "$scratch/data"    # root-owned and empty, as a fresh bind mount

node=$prefix-a
as_c() { docker exec -u cassandra "$node" "$@"; }
cq() { as_c cqlsh -e "$1"; }
# count <table>: the row count cqlsh prints
count() { cq "SELECT count(*) FROM $1" 2>/dev/null | sed -n 's/^ *\([0-9][0-9]*\) *$/\1/p'; }
# creds <user> <password> [container]: the cassandra user's cqlsh credentials
# file, fed through stdin (printf is a shell builtin: no argv carries it).
creds() {
  printf '[plain_text_auth]\nusername = %s\npassword = %s\n' "$1" "$2" \
    | docker exec -i -u cassandra "${3:-$node}" sh -c \
      'umask 077 && mkdir -p "$HOME/.cassandra" && cat >"$HOME/.cassandra/credentials"'
}
cql_ready() { # <container> <seconds>: the port first (cheap), then a query
  wait_for "$2" docker exec "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9042' \
    && wait_for 30 docker exec -u cassandra "$1" cqlsh -e 'SELECT release_version FROM system.local'
}

step "first start, PasswordAuthenticator, empty bind mount"
s=$(date +%s)
docker run -d --name "$node" --network "$net" --hostname cass-a \
  -e CASSANDRA_CLUSTER_NAME=hx -e CASSANDRA_AUTHENTICATOR=PasswordAuthenticator \
  -v "$scratch/data:/var/lib/cassandra" "$img" >/dev/null
creds cassandra cassandra
cql_ready "$node" 150 || { docker logs "$node" 2>&1 | tail -20 >&2; fail "CQL did not answer"; }
step "CQL answered $(( $(date +%s) - s ))s after docker run"
ip=$(ip_of "$node")

[ "$(docker exec "$node" stat -c %u:%g /var/lib/cassandra /var/lib/cassandra/data | sort -u)" = 999:999 ] \
  || fail "bind-mounted /var/lib/cassandra not re-owned to 999:999"
[ "$(stat -c %u "$scratch/data/commitlog")" = 999 ] || fail "commitlog on the host not owned by 999"
[ "$(docker exec "$node" stat -c %u /proc/1)" = 999 ] || fail "PID 1 does not run as 999"
[ "$(docker exec "$node" cat /proc/1/comm)" = java ] || fail "java is not PID 1"
for t in cassandra nodetool sstableloader cqlsh; do
  [ "$(docker exec "$node" sh -c "command -v $t")" = "/opt/cassandra/bin/$t" ] || fail "$t not on PATH"
done
[ "$(cq 'SELECT cluster_name FROM system.local' | sed -n 's/^ *\(hx\) *$/\1/p')" = hx ] || fail "CASSANDRA_CLUSTER_NAME"
cq 'SELECT release_version FROM system.local' | grep -q ' 5\.0\.6$' || fail "release 5.0.6"
if docker exec "$node" cqlsh -e 'SELECT * FROM system.local' >/dev/null 2>&1; then fail "root without credentials got in"; fi
step "uid 999, PID 1, PATH, credentials file, auth required: ok"

# A new password, and later clients reading it from the file or the environment.
printf "ALTER ROLE cassandra WITH PASSWORD = '%s';\n" "$(printf %s "$pw" | sed "s/'/''/g")" \
  | docker exec -i -u cassandra "$node" cqlsh >/dev/null || fail "ALTER ROLE through stdin"
# Credentials are cached for credentials_validity (2 s, as upstream).
sleep 3
if cq 'SELECT * FROM system.local' >/dev/null 2>&1; then fail "old password still accepted"; fi
creds cassandra "$pw"
CQLSH_USERNAME=cassandra CQLSH_PASSWORD=$pw \
  docker exec -e CQLSH_USERNAME -e CQLSH_PASSWORD "$node" cqlsh -e 'SELECT now() FROM system.local' >/dev/null \
  || fail "cqlsh with CQLSH_USERNAME/CQLSH_PASSWORD from the environment"

cq "CREATE KEYSPACE hx WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};
    CREATE TABLE hx.t (id int PRIMARY KEY, name text);
    INSERT INTO hx.t (id, name) VALUES (1, 'one');
    INSERT INTO hx.t (id, name) VALUES (2, 'héllo');
    INSERT INTO hx.t (id, name) VALUES (3, 'three') USING TTL 86400;" || fail "schema and rows"
[ "$(count hx.t)" = 3 ] || fail "3 rows after insert"

# A few thousand writes through one session, then the heap must still be fine.
cq "CREATE TABLE hx.bulk (id int PRIMARY KEY, v text)" || fail "bulk table"
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "INSERT INTO hx.bulk (id, v) VALUES (%d, '"'"'row-%d-%0200d'"'"');\n", i, i, 0 }' \
  | docker exec -i -u cassandra "$node" cqlsh >/dev/null || fail "3000 inserts"
[ "$(count hx.bulk)" = 3000 ] || fail "3000 rows"
step "3000 writes: ok, server RSS $(docker exec "$node" awk '/^VmRSS/ {print int($2/1024)}' /proc/1/status) MiB"

step "nodetool flush, snapshot, listsnapshots, copy, clearsnapshot"
as_c nodetool flush hx t || fail "nodetool flush"
as_c nodetool snapshot -t hxsnap hx >/dev/null || fail "nodetool snapshot"
as_c nodetool listsnapshots | grep -q '^hxsnap ' || fail "listsnapshots does not show hxsnap"
snap=$(as_c sh -c 'echo /var/lib/cassandra/data/hx/t-*/snapshots/hxsnap')
as_c test -f "$snap/manifest.json" -a -f "$snap/schema.cql" || fail "snapshot without manifest/schema"
# Two copies in the layout the tools want (<dir>/<ks>/<table>), without the
# manifest and schema: one for import (which moves files), one for the loader.
as_c sh -c "for d in import load; do mkdir -p /var/lib/cassandra/hx-\$d/hx/t && cp $snap/*-big-* /var/lib/cassandra/hx-\$d/hx/t/; done" \
  || fail "copy of the snapshot"
as_c nodetool clearsnapshot -t hxsnap >/dev/null || fail "nodetool clearsnapshot"
if as_c nodetool listsnapshots | grep -q '^hxsnap '; then fail "hxsnap still listed after clearsnapshot"; fi
as_c test ! -e "$snap" || fail "snapshot folder left after clearsnapshot"

step "nodetool import from the copy"
cq 'TRUNCATE hx.t' || fail "truncate"
[ "$(count hx.t)" = 0 ] || fail "rows left after truncate"
as_c nodetool import hx t /var/lib/cassandra/hx-import/hx/t || fail "nodetool import"
[ "$(count hx.t)" = 3 ] || fail "3 rows after import"
cq "SELECT name FROM hx.t WHERE id = 2" | grep -q ' héllo$' || fail "non-ASCII value after import"
cq "SELECT TTL(name) FROM hx.t WHERE id = 3" | grep -Eq '^ *[0-9]{5} *$' || fail "TTL lost by import"

step "sstableloader with the credentials file"
cq 'TRUNCATE hx.t' || fail "second truncate"
out=$(as_c sstableloader -d "$ip" /var/lib/cassandra/hx-load/hx/t 2>&1) \
  || { printf '%s\n' "$out" | tail -20 >&2; fail "sstableloader"; }
[ "$(count hx.t)" = 3 ] || fail "3 rows after sstableloader"
as_c nodetool clearsnapshot --all >/dev/null || fail "clearsnapshot --all (TRUNCATE's snapshots)"

step "drain, stop, restart on the same folder"
cq "INSERT INTO hx.t (id, name) VALUES (4, 'after')" || fail "insert before drain"
as_c nodetool drain || fail "nodetool drain"
as_c nodetool statusbinary | grep -q 'not running' || fail "CQL still served after drain"
timed_stop "$node"
s=$(date +%s)
docker start "$node" >/dev/null
cql_ready "$node" 150 || { docker logs "$node" 2>&1 | tail -20 >&2; fail "no CQL after restart"; }
step "CQL answered $(( $(date +%s) - s ))s after docker start"
[ "$(count hx.t)" = 4 ] || fail "4 rows after restart"
rss=$(docker exec "$node" awk '/^VmRSS/ {print int($2/1024)}' /proc/1/status)
step "persistence: ok; server RSS ${rss} MiB"

step "a second node seeded by the first"
s=$(date +%s)
docker run -d --name "$prefix-b" --network "$net" --hostname cass-b \
  -e CASSANDRA_CLUSTER_NAME=hx -e CASSANDRA_AUTHENTICATOR=PasswordAuthenticator \
  -e CASSANDRA_SEEDS="$node" "$img" >/dev/null
creds cassandra "$pw" "$prefix-b"
cql_ready "$prefix-b" 240 || { docker logs "$prefix-b" 2>&1 | tail -20 >&2; fail "second node: no CQL"; }
step "second node answered CQL $(( $(date +%s) - s ))s after docker run"
[ "$(as_c nodetool status | grep -c '^UN ')" = 2 ] || { as_c nodetool status >&2; fail "ring is not two nodes up"; }
[ "$(docker exec -u cassandra "$prefix-b" nodetool status | grep -c '^UN ')" = 2 ] || fail "second node sees no two-node ring"
[ "$(docker exec -u cassandra "$prefix-b" cqlsh -e 'SELECT count(*) FROM hx.t' 2>/dev/null | sed -n 's/^ *\([0-9][0-9]*\) *$/\1/p')" = 4 ] \
  || fail "rows through the second node"
step "two-node ring: ok"
timed_stop "$prefix-b"
timed_stop "$node"
step PASS
