#!/bin/sh
# `npm run demo`: the whole story on the reference stack, from nothing:
# bring it up, seed it, fingerprint it, back it up, destroy everything,
# restore, and show that the fingerprint is identical.
set -eu
cd "$(dirname "$0")/.."
export HOSS_DIR="${HOSS_DIR:-$HOME/.hoss-demo}"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-hossdemo}"

if [ ! -x node_modules/.bin/tsc ]; then npm ci --no-audit --no-fund; fi
sh scripts/node24.sh npx --no-install tsc -p tsconfig.json
hossadm() { sh scripts/node24.sh node dist/cli/main.js "$@"; }
prints=$(mktemp -d)

step() { printf '\n=== %s\n' "$*" >&2; }

sh scripts/engine.sh
compose/images/build
step "bring up the reference HOSS stack in $HOSS_DIR (project $COMPOSE_PROJECT_NAME)"
compose/stack up
step "seed it with deterministic data"
compose/stack seed
compose/stack fingerprint > "$prints/before.json"

step "hossadm backup"
hossadm backup --yes
archive=$(ls -t "$HOSS_DIR"/backup/backups/hoss-backup-* | head -n 1)
step "what the archive holds (any tar that reads zstd can list it)"
tar --zstd -tvf "$archive"

step "disaster: compose/stack reset removes containers, volumes, data and config"
compose/stack reset

step "hossadm restore $archive"
hossadm restore --yes "$archive"

compose/stack up >/dev/null 2>&1   # waits until every service answers again
compose/stack fingerprint > "$prints/after.json"
step "fingerprint before backup and after restore"
if cmp -s "$prints/before.json" "$prints/after.json"; then
  echo "identical: $(sha256sum < "$prints/after.json" | cut -c1-16)" >&2
else
  diff "$prints/before.json" "$prints/after.json" >&2 || true
  echo "fingerprints differ" >&2
  exit 1
fi
