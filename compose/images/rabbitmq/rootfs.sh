# Sourced by rootfs_import with ROOTFS set: Debian's rabbitmq-server shaped
# like rabbitmq:3.8-management-alpine, the image the stack runs.

# That image runs RabbitMQ as uid 100, gid 101, so a real rabbitmq-data volume
# is owned that way. Debian hands those ids to epmd (whose own daemon is never
# started here: the broker starts its epmd as rabbitmq) and to crontab.
chroot "$ROOTFS" groupmod -g 998 crontab
find "$ROOTFS" -xdev -gid 101 -exec chgrp -h 998 {} +
chroot "$ROOTFS" usermod -u 998 epmd
find "$ROOTFS" -xdev -uid 100 -exec chown -h 998 {} +
rootfs_renumber rabbitmq 100 rabbitmq 101

# The package's postinst made a cookie; every deployment must get its own,
# made on first start inside its volume.
rm -f "$ROOTFS/var/lib/rabbitmq/.erlang.cookie"
rm -rf "$ROOTFS"/var/lib/rabbitmq/mnesia/* "$ROOTFS"/var/log/rabbitmq/*

# The management image enables these two; the listeners are 15672 and 15692.
echo '[rabbitmq_management,rabbitmq_prometheus].' >"$ROOTFS/etc/rabbitmq/enabled_plugins"
mkdir -p "$ROOTFS/etc/rabbitmq/conf.d"
chown -R 100:101 "$ROOTFS/etc/rabbitmq" "$ROOTFS/var/lib/rabbitmq" "$ROOTFS/var/log/rabbitmq"
