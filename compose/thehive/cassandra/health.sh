#!/bin/sh
# Healthy once the stack's role has been checked or made (init-role.py) and
# the node listens for CQL (port 9042 = 0x2352 in /proc/net/tcp*, state 0A).
# Cheap on purpose: it runs every few seconds beside the JVM; `compose/stack
# up` does the real CQL login from the host.
test -e /tmp/cassandra-role-ready || exit 1
grep -qiE '^ *[0-9]+: [0-9A-F]+:2352 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6
