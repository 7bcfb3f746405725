#!/bin/sh
# versitygw (Apache-2.0), an S3-compatible gateway, built with `go build` on
# the host from the Go module proxy and placed in a small Debian rootfs.
# See README.md for the contract.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/VERSION")

command -v go >/dev/null || die "versitygw: go is missing on the host (https://go.dev/dl, or apt-get install -y golang)"
old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/versitygw-rootfs:local)
rootfs_base hoss-local/versitygw-rootfs:local ca-certificates

ctx=$(mktemp -d)
gobin=$(mktemp -d)
trap 'rm -rf "$ctx" "$gobin"' EXIT
# A static binary: the rootfs needs no Go runtime and no libc match.
CGO_ENABLED=0 GOBIN=$gobin GOFLAGS=-mod=mod \
  go install -trimpath -ldflags '-s -w' "github.com/versity/versitygw/cmd/versitygw@$version" \
  || die "versitygw: go install of $version failed"
cp "$gobin/versitygw" "$here/Dockerfile" "$here/entrypoint.sh" "$ctx/"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$ctx"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/versitygw-rootfs:local
