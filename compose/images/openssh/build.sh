#!/bin/sh
# OpenSSH's SFTP server from Debian, for one user with an authorized key;
# see README.md for the contract.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/openssh-rootfs:local)
ROOTFS_HOOK=$here/rootfs.sh rootfs_base hoss-local/openssh-rootfs:local openssh-server

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/sshd_config" "$here/sftp-entrypoint.sh" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/openssh-rootfs:local
