# Sourced by rootfs_import (lib.sh) with ROOTFS set: the account the upstream
# image runs Elasticsearch as, with the same uid so that data and snapshot
# folders restored from a real deployment stay writable.
chroot "$ROOTFS" groupadd --gid 1000 elasticsearch
chroot "$ROOTFS" useradd --uid 1000 --gid 1000 --no-create-home \
  --home-dir /usr/share/elasticsearch --shell /bin/bash elasticsearch
