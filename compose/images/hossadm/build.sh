#!/bin/sh
# hossadm itself as an image, used the way operators use
# offen/docker-volume-backup: the Docker socket and the stack's folders
# mounted at the same paths, on the host's network so the data services'
# addresses answer:
#   docker run --rm --network host -v /var/run/docker.sock:/var/run/docker.sock \
#     -v "$HOSS_DIR:$HOSS_DIR" hoss-local/hossadm:local --config-dir "$HOSS_DIR" backup --yes
# Debian bookworm (docker-compose v1 starts a stack on a fresh-host restore),
# Node 24 from the npm registry's node@24 package, and hossadm from the
# tarball `npm pack` makes of this checkout, with its production dependencies.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
root=$HOSSADM_ROOT

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/hossadm-rootfs:local)
rootfs_base hoss-local/hossadm-rootfs:local docker-compose,ca-certificates,libstdc++6

work=$(mktemp -d "${TMPDIR:-/var/tmp}/hoss-hossadm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/ctx"

# Node 24: the registry's node@24 package carries the official binary.
sh "$root/scripts/node24.sh" true
node24=$(sh "$root/scripts/node24.sh" sh -c 'command -v node')
npm install -g --silent --no-fund --no-audit --prefix "$work/node" node@24 >&2
cp "$(readlink -f "$work/node/bin/node")" "$work/ctx/node"
"$work/ctx/node" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=15)?0:1)' \
  || die "hossadm image: the node@24 package did not give a Node 22.15 or later"

# The package as npm pack makes it (prepack builds dist/), from a copy of the
# sources so the checkout's own dist/ is not rewritten under running tests.
cp -R "$root/package.json" "$root/package-lock.json" "$root/tsconfig.json" "$root/bin" "$root/src" "$root/templates" "$work/src/"
[ -f "$root/README.md" ] && cp "$root/README.md" "$work/src/"
if [ -d "$root/node_modules" ]; then ln -s "$root/node_modules" "$work/src/node_modules"; fi
mkdir -p "$work/src/scripts" && cp "$root/scripts/node24.sh" "$work/src/scripts/"
( cd "$work/src" && PATH="$(dirname "$node24"):$PATH" npm pack --silent --pack-destination "$work" >&2 ) || die "hossadm image: npm pack failed"
tarball=$(ls "$work"/hossadm-*.tgz)
PATH="$(dirname "$node24"):$PATH" npm install -g --silent --no-fund --no-audit --omit=dev --prefix "$work/ctx/hossadm" "$tarball" >&2 \
  || die "hossadm image: installing $tarball failed"
rm -rf "$work/ctx/hossadm/lib/node_modules/hossadm/node_modules/.cache"

# What the image was built from, so a test can tell a stale image from a current one.
source_hash=$(cd "$root" && find package.json package-lock.json bin src templates -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64)
cp "$here/Dockerfile" "$work/ctx/"
DOCKER_BUILDKIT=0 docker build -q --label "$RECIPE_LABEL=$RECIPE_HASH" --label "org.hossadm.source=$source_hash" -t "$IMAGE_TAG" "$work/ctx" >/dev/null \
  || die "hossadm image: docker build failed"
[ "$(docker run --rm "$IMAGE_TAG" --version)" = "$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json")" ] \
  || die "hossadm image: $IMAGE_TAG --version does not answer the package's version"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/hossadm-rootfs:local
