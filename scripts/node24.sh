#!/bin/sh
# Runs a command with a Node.js that has zlib's zstd (22.15 or later).
# The machines this project targets may ship an older, end-of-life Node; in
# that case Node 24 comes from the npm registry's `node@24` package into
# .tools/node24 once, and is reused afterwards.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
tools="$root/.tools/node24"

node_is_recent() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=15)?0:1)' 2>/dev/null
}

if command -v node >/dev/null 2>&1 && node_is_recent node; then
  exec "$@"
fi
if [ ! -x "$tools/bin/node" ] || ! node_is_recent "$tools/bin/node"; then
  echo "node24: installing Node 24 into $tools (the machine's node is older than 22.15)" >&2
  npm install -g --silent --no-fund --no-audit --prefix "$tools" node@24 >&2
  node_is_recent "$tools/bin/node" || { echo "node24: could not install Node 24; install Node >= 22.15 and retry" >&2; exit 127; }
fi
PATH="$tools/bin:$PATH"
export PATH
exec "$@"
