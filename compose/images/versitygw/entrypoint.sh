#!/bin/sh
# Runs `versitygw [global flags] <backend> <args>`: CMD is the backend and its
# arguments (default `posix /data`); the root keys come from ROOT_ACCESS_KEY
# and ROOT_SECRET_KEY in the environment, never from the command line.
set -eu
[ -n "${ROOT_ACCESS_KEY:-}" ] && [ -n "${ROOT_SECRET_KEY:-}" ] \
  || { echo "versitygw: set ROOT_ACCESS_KEY and ROOT_SECRET_KEY" >&2; exit 2; }
if [ "${1:-}" = posix ] && [ -n "${2:-}" ]; then mkdir -p "$2"; fi
exec versitygw "$@"
