#!/bin/sh
# `npm test`: brings in what the tests need on a fresh machine (Node 24,
# packages, the Docker engine, the local images), reusing whatever is already
# there, then type-checks, builds, and runs the unit and integration tests.
set -eu
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
sh scripts/engine.sh
compose/images/build

sh scripts/node24.sh npx --no-install tsc -p tsconfig.check.json
sh scripts/node24.sh npx --no-install tsc -p tsconfig.json

echo "== unit tests" >&2
sh scripts/node24.sh node --test --test-reporter=spec 'test/unit/**/*.test.ts'
echo "== integration tests (real engine, reference stack)" >&2
sh scripts/node24.sh node --test --test-reporter=spec --test-concurrency=1 'test/integration/**/*.test.ts'
