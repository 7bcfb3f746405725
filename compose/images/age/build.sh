#!/bin/sh
# age and age-keygen from Debian bookworm's `age` package: the reference
# implementation of the age format, run by the tests against what hossadm
# writes and reads; see README.md.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/age-rootfs:local)
rootfs_base hoss-local/age-rootfs:local age

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/age-rootfs:local
