#!/bin/sh
# Stand-in for hoss-auth. The real service runs as uid 1001 and owns
# /secrets, where it keeps private.pem (mode 600). Only the volume's root is
# handed over here, and only when it is not already: files below keep the
# owner they were written or restored with, so a restore that loses
# ownership stays visible instead of being quietly repaired.
set -u
owner=$(stat -c %u:%g /secrets)
[ "$owner" = 1001:1001 ] || chown 1001:1001 /secrets
echo "auth: /secrets ready"
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $!
done
