#!/bin/sh
# Builds $IMAGE_TAG: a single OpenSearch node behaving like the upstream
# opensearchproject/opensearch image for the HOSS compose file.
#   - the server and its modules come from Maven Central (pom.xml);
#   - a small launcher (launcher/) starts the node from config/opensearch.yml;
#   - the JRE comes from a debootstrapped base image (lib.sh).
# Run from the repository root with IMAGE_TAG and RECIPE_HASH set.
set -eu

. "$(dirname "$0")/../lib.sh"

: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${RECIPE_HASH:?RECIPE_HASH is required}"

HERE=$HOSSADM_ROOT/compose/images/opensearch
BASE_TAG=${OPENSEARCH_BASE_TAG:-hoss-local/opensearch-base:bookworm}
STAGE=$HOSSADM_ROOT/.cache/opensearch-image

if [ "$(image_recipe "$IMAGE_TAG")" = "$RECIPE_HASH" ]; then
  log "opensearch: $IMAGE_TAG is up to date"
  exit 0
fi

# Build tools: Maven resolves the jars, the JDK compiles the launcher.
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null || ! command -v jar >/dev/null; then
  log "opensearch: installing maven and a JDK"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    maven openjdk-17-jdk-headless >&2 || die "opensearch: could not install maven/openjdk-17-jdk-headless"
fi

rm -rf "$STAGE"
mkdir -p "$STAGE/opensearch/lib" "$STAGE/classes"
cp -R "$HERE/rootfs/usr/share/opensearch/." "$STAGE/opensearch/"
mkdir -p "$STAGE/opensearch/data" "$STAGE/opensearch/logs" \
  "$STAGE/opensearch/plugins" "$STAGE/opensearch/modules"

# MAVEN_REPO_LOCAL lets CI keep the artifact cache beside the work tree.
set -- -B -q -f "$HERE/pom.xml"
if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then set -- "$@" "-Dmaven.repo.local=$MAVEN_REPO_LOCAL"; fi
mvn "$@" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$STAGE/opensearch/lib" >&2 \
  || die "opensearch: resolving the server jars with Maven failed"

# --release pins the bytecode to the base image's Java 17 whatever JDK builds it.
javac --release 17 -nowarn -d "$STAGE/classes" -cp "$STAGE/opensearch/lib/*" \
  $(find "$HERE/launcher" -name '*.java') >&2 || die "opensearch: compiling the launcher failed"
jar --create --file "$STAGE/opensearch/lib/hossadm-opensearch-launcher.jar" -C "$STAGE/classes" . \
  || die "opensearch: packaging the launcher failed"

# The base carries the JRE and the opensearch account; it is rebuilt only
# when lib.sh, the package list or the hook change.
ROOTFS_HOOK=$HERE/rootfs-hook.sh
rootfs_base "$BASE_TAG" openjdk-17-jre-headless

rm -rf "$STAGE/classes"
printf 'FROM %s\n' "$BASE_TAG" | cat - "$HERE/Dockerfile" >"$STAGE/Dockerfile"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$STAGE"
log "opensearch: built $IMAGE_TAG"
