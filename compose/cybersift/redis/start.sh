#!/bin/sh
# Gives Redis the stack's password without putting it in argv (where every
# process on the host could read it): an included config file, readable by
# the redis user only, then the image's own entry point with redis.conf.
set -eu
[ -n "${REDIS_PASSWORD:-}" ] || { echo "cybersift redis: REDIS_PASSWORD is not set" >&2; exit 1; }
umask 077
printf 'requirepass "%s"\n' "$REDIS_PASSWORD" >/tmp/redis-auth.conf
chown redis:redis /tmp/redis-auth.conf
unset REDIS_PASSWORD
exec docker-entrypoint.sh redis-server /opt/cybersift-redis/redis.conf
