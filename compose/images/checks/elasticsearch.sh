#!/bin/sh
# hoss-local/elasticsearch:local against the official 7.10.2 image's contract:
# settings from dotted environment variables, ES_JAVA_OPTS, a mounted
# elasticsearch.yml, uid 1000, GET / (7.10.2, flavor default), an fs snapshot
# repository in a bind-mounted folder owned by 1000 (snapshot, delete,
# restore, count), the repository folder copied to a fresh node and restored
# from there read-only, clean stop. Prints seconds to green and the RSS.
check_name=elasticsearch
. "$(dirname "$0")/common.sh"
img=hoss-local/elasticsearch:local
scratch=$(mktemp -d)
# The node writes as uid 1000; so must it be able to in the repository.
mkdir "$scratch/repo" "$scratch/conf"
chown 1000:1000 "$scratch/repo"

# es <method> <path> [json]: the body on stdout; fails on HTTP >= 400.
es() {
  curl -sf -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "http://$ip:9200$2"
}
# val <key>: the first "key":value of the JSON on stdin, quotes stripped.
val() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2- | tr -d '"'; }
count() { es GET "/$1/_count" | val count; }

# start_es <name> [docker run args...]: runs a node and waits for green.
start_es() {
  _n=$1; shift
  _s=$(date +%s%N)
  docker run -d --name "$prefix-$_n" --network "$net" "$@" "$img" >/dev/null
  ip=$(ip_of "$prefix-$_n")
  _t=0
  until curl -sf "http://$ip:9200/_cluster/health?wait_for_status=green&timeout=1s" >/dev/null 2>&1; do
    [ "$(docker inspect -f '{{.State.Running}}' "$prefix-$_n")" = true ] \
      || { docker logs "$prefix-$_n" 2>&1 | tail -20 >&2; fail "$_n exited at start"; }
    [ "$_t" -lt 360 ] || { docker logs "$prefix-$_n" 2>&1 | tail -20 >&2; fail "$_n not green within 90 s"; }
    sleep 0.25; _t=$((_t + 1))
  done
  _ms=$(( ($(date +%s%N) - _s) / 1000000 ))
  step "$_n green $((_ms / 1000)).$((_ms % 1000 / 100)) s after docker run"
}
rss() { docker exec "$prefix-$1" sh -c 'grep VmRSS /proc/1/status' | awk '{printf "%d MB", $2 / 1024}'; }

step "first node: settings from the environment, repository folder bind-mounted"
start_es es1 -e discovery.type=single-node -e cluster.name=hx-check -e path.repo=/mnt/snapshots \
  -e xpack.security.enabled=false -v "$scratch/repo:/mnt/snapshots"
root=$(es GET /) || fail "GET /"
[ "$(echo "$root" | tr -d ' \n' | val number)" = 7.10.2 ] || fail "version is not 7.10.2: $root"
[ "$(echo "$root" | tr -d ' \n' | val build_flavor)" = default ] || fail "build_flavor is not default"
[ "$(echo "$root" | tr -d ' \n' | val cluster_name)" = hx-check ] || fail "cluster.name from the environment"
[ "$(docker exec "$prefix-es1" id -u):$(docker exec "$prefix-es1" id -g)" = 1000:1000 ] || fail "not running as 1000:1000"
[ "$(docker exec "$prefix-es1" stat -c %u /proc/1)" = 1000 ] || fail "the node does not run as uid 1000"
es GET '/_nodes/settings?filter_path=nodes.*.settings.discovery' | grep -q '"type":"single-node"' || fail "discovery.type from the environment"
step "GET / 7.10.2 flavor default, uid 1000, settings from the environment: ok; RSS $(rss es1)"

es PUT /hx-docs '{"settings":{"number_of_shards":1,"number_of_replicas":0},
  "mappings":{"properties":{"key":{"type":"keyword"},"n":{"type":"long"}}}}' >/dev/null || fail "create index"
es PUT /_template/hx-tpl '{"index_patterns":["hx-later-*"],"settings":{"number_of_shards":1}}' >/dev/null || fail "template"
bulk=$(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
  printf '{"index":{"_id":"d%s"}}\n{"key":"doc/%s","n":%s}\n' "$i" "$i" "$i"; done)
printf '%s\n' "$bulk" | curl -sf -X POST -H 'content-type: application/x-ndjson' --data-binary @- \
  "http://$ip:9200/hx-docs/_bulk?refresh=true" | grep -q '"errors":false' || fail "bulk"
[ "$(count hx-docs)" = 12 ] || fail "12 documents before the snapshot"
[ "$(es GET '/_cluster/health/hx-docs' | val status)" = green ] || fail "index with 0 replicas is not green"

es PUT /_snapshot/hx '{"type":"fs","settings":{"location":"/mnt/snapshots"}}' >/dev/null || fail "register fs repository"
snap=$(es PUT '/_snapshot/hx/s1?wait_for_completion=true' '{"indices":"hx-docs","include_global_state":true}') || fail "snapshot"
[ "$(echo "$snap" | val state)" = SUCCESS ] || fail "snapshot state: $snap"
[ "$(echo "$snap" | val failed)" = 0 ] || fail "snapshot shards failed: $snap"
[ -f "$scratch/repo/index.latest" ] || fail "no index.latest in the repository folder"
[ "$(find "$scratch/repo" ! -uid 1000 | wc -l)" = 0 ] || fail "repository files not owned by uid 1000"
es DELETE /hx-docs >/dev/null || fail "delete index"
[ "$(es GET /_cat/indices/hx-docs 2>/dev/null)" = "" ] || fail "index still there after delete"
es POST '/_snapshot/hx/s1/_restore?wait_for_completion=true' '{"indices":"hx-docs"}' | grep -q '"failed":0' || fail "restore"
es GET '/_cluster/health/hx-docs?wait_for_status=green&timeout=30s' >/dev/null || fail "restored index not green"
[ "$(count hx-docs)" = 12 ] || fail "12 documents after the restore"
step "fs repository: snapshot, delete, restore, count 12: ok"

timed_stop "$prefix-es1"
[ "$stop_code" = 143 ] || [ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker logs "$prefix-es1" 2>&1 | tail -2 | grep -q '"message": "closed"' || fail "no clean close in the log"

step "fresh node: mounted elasticsearch.yml, ES_JAVA_OPTS, started as root, repository copied and read-only"
cp -a "$scratch/repo" "$scratch/copy"
cat >"$scratch/conf/elasticsearch.yml" <<'EOF'
cluster.name: hx-fresh
network.host: 0.0.0.0
discovery.type: single-node
path.repo: ["/mnt/copy"]
EOF
start_es es2 --user 0 -e TAKE_FILE_OWNERSHIP=1 -e 'ES_JAVA_OPTS=-Xms256m -Xmx256m' \
  -v "$scratch/conf/elasticsearch.yml:/usr/share/elasticsearch/config/elasticsearch.yml:ro" \
  -v "$scratch/copy:/mnt/copy"
[ "$(es GET / | tr -d ' \n' | val cluster_name)" = hx-fresh ] || fail "cluster.name from the mounted file"
[ "$(es GET '/_nodes/jvm?filter_path=**.heap_max_in_bytes' | val heap_max_in_bytes)" = 268435456 ] || fail "ES_JAVA_OPTS heap"
[ "$(docker exec "$prefix-es2" stat -c %u /proc/1)" = 1000 ] || fail "started as root, the node must drop to uid 1000"
es PUT /_snapshot/ro '{"type":"fs","settings":{"location":"/mnt/copy","readonly":true}}' >/dev/null || fail "register read-only repository"
es GET /_snapshot/ro/_all | grep -q '"snapshot":"s1"' || fail "s1 not listed in the copied repository"
es POST '/_snapshot/ro/s1/_restore?wait_for_completion=true' '{"include_global_state":true}' | grep -q '"failed":0' || fail "restore from the copy"
es GET '/_cluster/health/hx-docs?wait_for_status=green&timeout=30s' >/dev/null || fail "restored copy not green"
[ "$(count hx-docs)" = 12 ] || fail "12 documents on the fresh node"
es GET /_template/hx-tpl | grep -q hx-later || fail "template (global state) not restored"
if es PUT '/_snapshot/ro/s2?wait_for_completion=true' '{"indices":"hx-docs"}' >/dev/null 2>&1; then fail "read-only repository accepted a snapshot"; fi
step "read-only copy: restore with global state, count 12, no writes: ok; RSS $(rss es2) (256 MB heap)"
timed_stop "$prefix-es2"
step PASS
