#!/bin/sh
# Redis 7.0 from Debian with the official redis image's contract; see README.md.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/redis-rootfs:local)
ROOTFS_HOOK=$here/rootfs.sh rootfs_base hoss-local/redis-rootfs:local redis-server

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/docker-entrypoint.sh" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/redis-rootfs:local
