# Sourced by rootfs_import (lib.sh) with ROOTFS set: the account the upstream
# image runs OpenSearch as, with the same ids so that data and snapshot
# folders restored from a real deployment stay writable.
chroot "$ROOTFS" groupadd --gid 1000 opensearch
chroot "$ROOTFS" useradd --uid 1000 --gid 1000 --no-create-home \
  --home-dir /usr/share/opensearch --shell /bin/bash opensearch
