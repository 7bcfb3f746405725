# Sourced by rootfs_import (lib.sh) with ROOTFS set. The account and folders
# of the upstream cassandra image: user and group cassandra, uid/gid 999, so
# data folders restored from a real deployment keep their owner.
chroot "$ROOTFS" groupadd --system --gid 999 cassandra
chroot "$ROOTFS" useradd --system --uid 999 --gid 999 --home-dir /home/cassandra \
  --shell /bin/bash cassandra
for d in /home/cassandra /var/lib/cassandra /var/lib/cassandra/data \
  /var/lib/cassandra/commitlog /var/lib/cassandra/saved_caches \
  /var/lib/cassandra/hints /var/log/cassandra /etc/cassandra; do
  mkdir -p "$ROOTFS$d"
  chown 999:999 "$ROOTFS$d"
done
chmod 700 "$ROOTFS/home/cassandra"

# Python is only here for cqlsh: no IDE, 2to3 or pydoc data. The byte-code
# caches stay: cqlsh runs as a health check and should start quickly.
rm -rf "$ROOTFS"/usr/lib/python3.11/lib2to3 "$ROOTFS"/usr/lib/python3.11/pydoc_data \
  "$ROOTFS"/usr/lib/python3.11/ensurepip "$ROOTFS"/usr/lib/python3.11/idlelib \
  "$ROOTFS"/usr/lib/python3.11/turtledemo

# The JRE runs neither javac nor heaps above 32 GB: javac's symbol table and
# the class-data archive for uncompressed oops are dead weight (20 MB).
rm -f "$ROOTFS"/usr/lib/jvm/java-17-openjdk-*/lib/ct.sym \
  "$ROOTFS"/usr/lib/jvm/java-17-openjdk-*/lib/server/classes_nocoops.jsa
