#!/bin/sh
# OpenLDAP (slapd) from Debian with the parts of osixia/openldap's contract
# the stack relies on; see README.md next to this folder.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/ldap-rootfs:local)
ROOTFS_HOOK=$here/rootfs.sh rootfs_base hoss-local/ldap-rootfs:local slapd,ldap-utils

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/entrypoint.sh" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/ldap-rootfs:local
