#!/bin/sh
# Builds $IMAGE_TAG: a single Elasticsearch 7.10.2 node (the last Apache-2.0
# release) behaving like the upstream docker.elastic.co/elasticsearch/
# elasticsearch:7.10.2 image, without X-Pack.
#   - the server and its modules come from Maven Central (pom.xml);
#   - a small launcher (launcher/) starts the node from config/elasticsearch.yml;
#   - the JRE comes from a debootstrapped base image (lib.sh).
# Run from the repository root with IMAGE_TAG and RECIPE_HASH set.
set -eu

. "$(dirname "$0")/../lib.sh"

: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${RECIPE_HASH:?RECIPE_HASH is required}"

HERE=$HOSSADM_ROOT/compose/images/elasticsearch
BASE_TAG=${ELASTICSEARCH_BASE_TAG:-hoss-local/elasticsearch-base:bookworm}
STAGE=$HOSSADM_ROOT/.cache/elasticsearch-image

if [ "$(image_recipe "$IMAGE_TAG")" = "$RECIPE_HASH" ]; then
  log "elasticsearch: $IMAGE_TAG is up to date"
  exit 0
fi

# Build tools: Maven resolves the jars, the JDK compiles the launcher.
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null || ! command -v jar >/dev/null; then
  log "elasticsearch: installing maven and a JDK"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    maven openjdk-17-jdk-headless >&2 || die "elasticsearch: could not install maven/openjdk-17-jdk-headless"
fi

rm -rf "$STAGE"
mkdir -p "$STAGE/elasticsearch/lib" "$STAGE/classes"
cp -R "$HERE/rootfs/usr/share/elasticsearch/." "$STAGE/elasticsearch/"
mkdir -p "$STAGE/elasticsearch/data" "$STAGE/elasticsearch/logs" \
  "$STAGE/elasticsearch/plugins" "$STAGE/elasticsearch/modules"

# MAVEN_REPO_LOCAL lets CI keep the artifact cache beside the work tree.
set -- -B -q -f "$HERE/pom.xml"
if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then set -- "$@" "-Dmaven.repo.local=$MAVEN_REPO_LOCAL"; fi
mvn "$@" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$STAGE/elasticsearch/lib" >&2 \
  || die "elasticsearch: resolving the server jars with Maven failed"

# --release pins the bytecode to the base image's Java 17 whatever JDK builds it.
javac --release 17 -nowarn -d "$STAGE/classes" -cp "$STAGE/elasticsearch/lib/*" \
  $(find "$HERE/launcher" -name '*.java') >&2 || die "elasticsearch: compiling the launcher failed"
jar --create --file "$STAGE/elasticsearch/lib/hossadm-elasticsearch-launcher.jar" -C "$STAGE/classes" . \
  || die "elasticsearch: packaging the launcher failed"

# The base carries the JRE and the elasticsearch account; it is rebuilt only
# when lib.sh, the package list or the hook change.
ROOTFS_HOOK=$HERE/rootfs-hook.sh
rootfs_base "$BASE_TAG" openjdk-17-jre-headless

rm -rf "$STAGE/classes"
printf 'FROM %s\n' "$BASE_TAG" | cat - "$HERE/Dockerfile" >"$STAGE/Dockerfile"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$STAGE"
log "elasticsearch: built $IMAGE_TAG"
