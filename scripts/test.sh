#!/bin/sh
# `npm test`: brings in what the tests need on a fresh machine (Node 24,
# packages, the Docker engine, the local images), reusing whatever is already
# there, then type-checks, builds, and runs the unit and integration tests.
#
# Integration tests run in two streams at once, each one file at a time:
# test/integration/ (the HOSS reference stack) and test/integration-stacks/
# (the other reference stacks). Every file brings up its own stack under its
# own project name, so the streams never share one; on two cores this halves
# the wall time without making any one file's timing tighter.
set -eu
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
sh scripts/engine.sh
compose/images/build

sh scripts/node24.sh npx --no-install tsc -p tsconfig.check.json
sh scripts/node24.sh npx --no-install biome ci --colors=off .
sh scripts/node24.sh npx --no-install tsc -p tsconfig.json

echo "== unit tests" >&2
sh scripts/node24.sh node --test --test-reporter=spec 'test/unit/**/*.test.ts'

echo "== integration tests (real engine, reference stacks; two streams)" >&2
logs=$(mktemp -d "${TMPDIR:-/tmp}/hossadm-test.XXXXXX")
# The second stream writes to a file and is shown whole after the first, so
# the two never interleave; its progress can be followed with tail -f.
echo "(the other reference stacks' stream: $logs/stacks.log)" >&2
# It works in a TMPDIR of its own: the HOSS stream's tests check that nothing
# new appears in /tmp while hossadm runs.
mkdir -p "$logs/tmp"
TMPDIR="$logs/tmp" sh scripts/node24.sh node --test --test-reporter=spec --test-concurrency=1 'test/integration-stacks/**/*.test.ts' >"$logs/stacks.log" 2>&1 &
stacks=$!
hoss=0
sh scripts/node24.sh node --test --test-reporter=spec --test-concurrency=1 'test/integration/**/*.test.ts' 2>&1 | tee "$logs/hoss.log" || hoss=$?
# tee hides node's exit code behind its own; the summary line tells.
grep -q '^ℹ fail 0$' "$logs/hoss.log" || hoss=1
other=0
wait "$stacks" || other=$?
echo "== integration tests of the other reference stacks" >&2
cat "$logs/stacks.log"
count() { n=$(sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$2" | tail -n 1); echo "${n:-0}"; }
passed=$(( $(count pass "$logs/hoss.log") + $(count pass "$logs/stacks.log") ))
failed=$(( $(count fail "$logs/hoss.log") + $(count fail "$logs/stacks.log") ))
echo "integration: ${passed} passed, ${failed} failed"
rm -rf "$logs"
[ "$hoss" = 0 ] && [ "$other" = 0 ] && [ "$failed" = 0 ]
