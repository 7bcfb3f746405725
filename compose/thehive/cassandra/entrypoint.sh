#!/bin/sh
# Entry point of the cassandra service: the image's own start, with the
# stack's login role made in the background once CQL answers
# (init-role.py). Cassandra stays the main process; compose's `init: true`
# reaps the helper when it is done.
set -eu
rm -f /tmp/cassandra-role-ready
PYTHONPATH=/opt/cqlsh PYTHONDONTWRITEBYTECODE=1 python3 /opt/thehive-cassandra/init-role.py &
if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  exec docker-entrypoint.sh cassandra -f
fi
exec cassandra -f
