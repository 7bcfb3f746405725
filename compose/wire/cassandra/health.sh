#!/bin/sh
# Healthy once the node listens for CQL (port 9042 = 0x2352 in
# /proc/net/tcp*, state 0A). Cheap on purpose: it runs every few seconds
# beside the JVM; `compose/stack --stack wire up` does the real CQL check.
grep -qiE '^ *[0-9]+: [0-9A-F]+:2352 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6
