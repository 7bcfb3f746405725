#!/bin/sh
# PostgreSQL 15 from Debian, behaving like the upstream postgres image.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/postgres-rootfs:local)
ROOTFS_HOOK=$here/rootfs.sh rootfs_base hoss-local/postgres-rootfs:local \
  postgresql-15,xz-utils,zstd

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/docker-entrypoint.sh" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/postgres-rootfs:local
