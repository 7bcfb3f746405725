#!/bin/bash
# Same calling convention as the upstream image: no arguments, "opensearch"
# or -E flags start the node; anything else is run as a command instead.
# bash, not dash: dash drops environment variables whose names hold dots,
# and settings such as discovery.type=single-node arrive that way.
set -eu
if [ $# -gt 0 ] && [ "$1" = opensearch ]; then shift; fi
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
  cd "${OPENSEARCH_HOME:-/usr/share/opensearch}"
  exec "${OPENSEARCH_HOME:-/usr/share/opensearch}/bin/opensearch" "$@"
fi
exec "$@"
