#!/bin/bash
# Same calling convention as the upstream 7.x image: no arguments, "eswrapper",
# "elasticsearch" or -E flags start the node; anything else is run as a
# command instead. bash, not dash: dash drops environment variables whose
# names hold dots, and settings such as discovery.type=single-node arrive
# that way.
set -eu
# Files the node creates stay group-writable, as upstream.
umask 0002
ES_HOME=${ES_HOME:-/usr/share/elasticsearch}

node=0
if [ $# -gt 0 ] && { [ "$1" = eswrapper ] || [ "$(basename -- "$1")" = elasticsearch ]; }; then shift; node=1; fi
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then node=1; fi
if [ "$node" = 1 ]; then
  cd "$ES_HOME"
  if [ "$(id -u)" = 0 ]; then
    # Started as root (`user: root`): as upstream, optionally hand the data
    # and logs folders to the node's account, then drop to it.
    if [ -n "${TAKE_FILE_OWNERSHIP:-}" ]; then chown -R 1000:1000 "$ES_HOME/data" "$ES_HOME/logs"; fi
    exec setpriv --reuid=1000 --regid=1000 --clear-groups "$ES_HOME/bin/elasticsearch" "$@"
  fi
  exec "$ES_HOME/bin/elasticsearch" "$@"
fi
exec "$@"
