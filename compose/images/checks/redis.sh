#!/bin/sh
# hoss-local/redis:local against the official redis image's contract: runs as
# uid 999 as PID 1, owns /data, takes a config file or arguments, keeps its
# data across a restart (AOF), stops cleanly, and redis-cli takes the
# password from REDISCLI_AUTH and pulls an RDB with --rdb.
check_name=redis
. "$(dirname "$0")/common.sh"
img=hoss-local/redis:local
scratch=$(mktemp -d)
printf 'appendonly yes\nrequirepass "pw with space"\n' >"$scratch/redis.conf"

cli() { docker exec -e REDISCLI_AUTH='pw with space' "$prefix-r" redis-cli "$@"; }

step "start with a config file, /data a fresh volume"
docker volume create "$prefix-data" >/dev/null
docker run -d --name "$prefix-r" --network "$net" -v "$prefix-data:/data" -v "$scratch/redis.conf:/etc/redis.conf:ro" "$img" /etc/redis.conf >/dev/null
wait_for 30 cli ping || { docker logs "$prefix-r" 2>&1 | tail -20 >&2; fail "no PONG"; }
[ "$(docker exec "$prefix-r" cat /proc/1/comm)" = redis-server ] || fail "redis-server is not PID 1"
[ "$(docker exec "$prefix-r" stat -c %u:%g /data)" = 999:999 ] || fail "/data not owned by 999:999"
[ "$(docker exec "$prefix-r" sh -c 'id -u redis')" = 999 ] || fail "redis is not uid 999"
if docker exec "$prefix-r" redis-cli ping 2>/dev/null | grep -q PONG; then fail "answered without the password"; fi
cli set k v >/dev/null
cli -n 3 rpush l a b >/dev/null
[ "$(cli config get appendonly | tail -1)" = yes ] || fail "config file not read"
step "uid 999, PID 1, password, config file: ok"

docker exec -e REDISCLI_AUTH='pw with space' -u redis "$prefix-r" redis-cli --rdb /data/x.rdb >/dev/null 2>&1 || fail "redis-cli --rdb"
[ "$(docker exec "$prefix-r" head -c 5 /data/x.rdb)" = REDIS ] || fail "--rdb wrote no RDB"
step "redis-cli --rdb: ok"

ip=$(ip_of "$prefix-r")
[ "$(docker run --rm --network "$net" -e REDISCLI_AUTH='pw with space' "$img" redis-cli -h "$ip" get k)" = v ] || fail "not reachable from another container"
step "reachable from another container: ok"

timed_stop "$prefix-r"
[ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker start "$prefix-r" >/dev/null
wait_for 30 cli ping || fail "no PONG after restart"
[ "$(cli -n 3 lrange l 0 -1 | tr '\n' ,)" = a,b, ] || fail "data lost across a restart"
docker rm -f "$prefix-r" >/dev/null
step "persistence: ok"

step "arguments only, protected mode off"
docker run -d --name "$prefix-a" --network "$net" "$img" --save '' >/dev/null
wait_for 30 docker exec "$prefix-a" redis-cli ping || fail "no PONG with arguments"
[ "$(docker exec "$prefix-a" redis-cli config get protected-mode | tail -1)" = no ] || fail "protected mode on"
[ "$(docker run --rm --network "$net" "$img" redis-cli -h "$(ip_of "$prefix-a")" ping)" = PONG ] || fail "arguments-only server not reachable"
step PASS
