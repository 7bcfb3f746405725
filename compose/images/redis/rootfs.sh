# Sourced by rootfs_import with ROOTFS set: Debian's redis-server shaped like
# the official redis:7.0 image.

# The official image runs Redis as redis, uid 999, gid 999, so a /data
# volume of a real deployment is owned that way.
rootfs_renumber redis 999 redis 999

# The official image has no config file: redis-server runs on its built-in
# defaults unless given a file or arguments. Debian's (daemonize, a log
# file, /var/lib/redis) would mislead anyone who finds it.
rm -f "$ROOTFS/etc/redis/redis.conf" "$ROOTFS/etc/redis/sentinel.conf"
rm -rf "$ROOTFS/var/lib/redis"/* "$ROOTFS/var/log/redis"

mkdir -p "$ROOTFS/data"
chown 999:999 "$ROOTFS/data"
