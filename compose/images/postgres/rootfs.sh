# Sourced by rootfs_import with ROOTFS set: turns Debian's postgresql-15 into
# the shape of the upstream postgres image the stack was written for.

# uid/gid 70 as in postgres:*-alpine, so bind-mounted data folders made by a
# real deployment are readable here and the other way round.
rootfs_renumber postgres 70 postgres 70

# The package's postinst made a "main" cluster; the container makes its own
# in PGDATA on first start instead.
rm -rf "$ROOTFS/var/lib/postgresql/15" "$ROOTFS/etc/postgresql/15"

# initdb copies this sample, so every new cluster listens on all addresses.
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" \
  "$ROOTFS/usr/share/postgresql/15/postgresql.conf.sample"
grep -q "^listen_addresses = '\*'" "$ROOTFS/usr/share/postgresql/15/postgresql.conf.sample" \
  || die "postgres: could not set listen_addresses in the sample config"

mkdir -p "$ROOTFS/run/postgresql" "$ROOTFS/var/lib/postgresql/data" "$ROOTFS/docker-entrypoint-initdb.d"
chown 70:70 "$ROOTFS/run/postgresql" "$ROOTFS/var/lib/postgresql" "$ROOTFS/var/lib/postgresql/data"
chmod 3777 "$ROOTFS/run/postgresql"
chmod 1777 "$ROOTFS/var/lib/postgresql/data"

# Without its JIT provider postgres quietly runs queries without JIT; LLVM
# alone would be a third of the image.
rm -f "$ROOTFS"/usr/lib/postgresql/15/lib/llvmjit* "$ROOTFS"/usr/lib/x86_64-linux-gnu/libLLVM*
rm -rf "$ROOTFS"/usr/lib/postgresql/15/lib/bitcode "$ROOTFS/usr/share/postgresql/15/man"
