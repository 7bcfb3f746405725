#!/bin/bash
# End-to-end check of the image against what hossadm relies on, the way the
# HOSS compose file runs it: bind-mounted opensearch.yml (with path.repo and
# the security-disabled line), data folder and snapshot folder.
#   compose/images/opensearch/smoke.sh [image]       (default hoss-local/opensearch:local)
# Prints timings and memory; exits non-zero on the first broken expectation.
# Talks only to the container's own address on the local bridge.
# Needs docker, curl and jq on the host, and root (to chown the folders).
set -euo pipefail

IMAGE=${1:-hoss-local/opensearch:local}
NAME=${SMOKE_NAME:-hx-os-smoke-$$}
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/hx-os-smoke.XXXXXX")
REPO=hoss-backup-repository

cleanup() {
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  # The node wrote these as uid 1000; a helper-free rm works because we are root.
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "smoke: FAIL: $*" >&2; docker logs --tail 40 "$NAME" >&2 2>&1 || true; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$WORK/data" "$WORK/snapshots"
chown 1000:1000 "$WORK/data" "$WORK/snapshots"
cat >"$WORK/opensearch.yml" <<'EOF'
network.host: 0.0.0.0
plugins.security.disabled: true
path.repo: ["/mnt/snapshots"]
cluster.name: hoss-smoke
EOF

start_node() {
  local t0 ip
  t0=$(now)
  docker start "$NAME" >/dev/null
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NAME")
  URL="http://$ip:9200"
  for _ in $(seq 1 240); do
    if curl -fs "$URL/_cluster/health?wait_for_status=${1}&timeout=1s" >/dev/null 2>&1; then
      echo "smoke: node up and $1 in $(secs "$t0" "$(now)") s"
      return 0
    fi
    [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || fail "container exited"
    sleep 0.25
  done
  fail "node not $1 within 60 s"
}

# req METHOD PATH [BODY-FILE-OR-JSON]: prints the body, fails on HTTP >= 400.
req() {
  local method=$1 path=$2 body=${3:-} out code
  out=$(mktemp)
  if [ -z "$body" ]; then
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" "$URL$path")
  elif [ -f "$body" ]; then
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" -H 'Content-Type: application/x-ndjson' --data-binary "@$body" "$URL$path")
  else
    code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json' -d "$body" "$URL$path")
  fi
  if [ "$code" -ge 400 ]; then cat "$out" >&2; rm -f "$out"; fail "$method $path -> HTTP $code"; fi
  cat "$out"; rm -f "$out"
}
expect() { # expect JQ-EXPR EXPECTED JSON
  local got; got=$(jq -r "$1" <<<"$3")
  [ "$got" = "$2" ] || fail "expected $1 == $2, got $got"
}

docker create --name "$NAME" -e discovery.type=single-node \
  -v "$WORK/opensearch.yml:/usr/share/opensearch/config/opensearch.yml" \
  -v "$WORK/data:/usr/share/opensearch/data" \
  -v "$WORK/snapshots:/mnt/snapshots" "$IMAGE" >/dev/null
start_node green

root=$(req GET /)
expect '.version.number | startswith("2.")' true "$root"
expect .cluster_name hoss-smoke "$root"
[ "$(docker exec "$NAME" id -u):$(docker exec "$NAME" id -g)" = 1000:1000 ] || fail "not running as 1000:1000"
expect '.nodes[].settings.discovery.type' single-node "$(req GET '/_nodes/settings?filter_path=nodes.*.settings.discovery')"

# Two indices with explicit mappings, an alias, bulk documents.
for idx in hoss-objects hoss-meta; do
  req PUT "/$idx" '{"settings":{"number_of_shards":1,"number_of_replicas":0},
    "mappings":{"properties":{"key":{"type":"keyword"},"size":{"type":"long"},
    "modified":{"type":"date"},"note":{"type":"text"}}}}' >/dev/null
done
req POST /_aliases '{"actions":[{"add":{"index":"hoss-objects","alias":"hoss-all"}},{"add":{"index":"hoss-meta","alias":"hoss-all"}}]}' >/dev/null
bulk="$WORK/bulk.ndjson"
: >"$bulk"
for i in $(seq 1 500); do
  printf '{"index":{"_index":"hoss-objects","_id":"o%d"}}\n{"key":"obj/%05d","size":%d,"modified":"2024-01-%02dT00:00:00Z","note":"object %d"}\n' \
    "$i" "$i" "$((i * 7))" "$((i % 28 + 1))" "$i" >>"$bulk"
done
for i in $(seq 1 120); do
  printf '{"index":{"_index":"hoss-meta","_id":"m%d"}}\n{"key":"meta/%04d","size":%d,"modified":"2024-02-01T00:00:00Z","note":"meta"}\n' \
    "$i" "$i" "$i" >>"$bulk"
done
expect .errors false "$(req POST '/_bulk?refresh=true' "$bulk")"
expect .count 500 "$(req GET /hoss-objects/_count)"
expect .count 120 "$(req GET /hoss-meta/_count)"
expect .count 620 "$(req GET /hoss-all/_count)"
expect '.hits.hits[0]._source.key' obj/00500 \
  "$(req POST '/hoss-objects/_search' '{"size":1,"sort":[{"size":"desc"}]}')"

# Snapshot into the fs repository, checked the way hossadm must check it.
req PUT "/_snapshot/$REPO" '{"type":"fs","settings":{"location":"/mnt/snapshots"}}' >/dev/null
expect '.nodes | length' 1 "$(req POST "/_snapshot/$REPO/_verify")"
t0=$(now)
snap=$(req PUT "/_snapshot/$REPO/snap-1?wait_for_completion=true" '{"indices":"hoss-*","include_global_state":true}')
echo "smoke: snapshot (wait_for_completion) in $(secs "$t0" "$(now)") s"
expect .snapshot.state SUCCESS "$snap"
expect .snapshot.shards.failed 0 "$snap"
# The start-and-poll path.
req PUT "/_snapshot/$REPO/snap-2" '{"indices":"hoss-*","include_global_state":true}' >/dev/null
for _ in $(seq 1 120); do
  st=$(req GET "/_snapshot/$REPO/snap-2")
  [ "$(jq -r '.snapshots[0].state' <<<"$st")" = IN_PROGRESS ] || break
  sleep 0.25
done
expect '.snapshots[0].state' SUCCESS "$st"
expect '.snapshots[0].shards.failed' 0 "$st"
expect '.snapshots[0].state' SUCCESS "$(req GET "/_snapshot/$REPO/snap-2/_status" | jq '{snapshots:[.snapshots[]|{state}]}')"
[ "$(stat -c %u "$WORK/snapshots/index.latest" 2>/dev/null || true)" = 1000 ] || fail "repository files are not owned by uid 1000"

# Delete one index, close the other, restore both with the global state.
req DELETE /hoss-meta >/dev/null
req POST /hoss-objects/_close >/dev/null
restore=$(req POST "/_snapshot/$REPO/snap-1/_restore?wait_for_completion=true" '{"indices":"hoss-*","include_global_state":true}')
expect .snapshot.shards.failed 0 "$restore"
req GET '/_cluster/health?wait_for_status=green&timeout=30s' >/dev/null
expect .count 500 "$(req GET /hoss-objects/_count)"
expect .count 120 "$(req GET /hoss-meta/_count)"
expect .count 620 "$(req GET /hoss-all/_count)"

mem=$(docker stats --no-stream --format '{{.MemUsage}}' "$NAME")
echo "smoke: memory after the round trip: $mem"

# Restart: clean stop on SIGTERM, data kept.
t0=$(now)
docker stop -t 30 "$NAME" >/dev/null
echo "smoke: docker stop in $(secs "$t0" "$(now)") s, exit code $(docker inspect -f '{{.State.ExitCode}}' "$NAME")"
docker logs "$NAME" 2>&1 | grep -q 'closed$' || fail "node did not log a clean close"
start_node green
expect .count 620 "$(req GET /hoss-all/_count)"
expect '.snapshots | length' 2 "$(req GET "/_snapshot/$REPO/_all")"

echo "smoke: OK"
