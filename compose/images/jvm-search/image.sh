# The build steps the Elasticsearch and OpenSearch images share. POSIX sh;
# sourced by compose/images/{elasticsearch,opensearch}/build.sh after lib.sh.
# Both list this folder in their `shared` file, so a change here changes
# their recipes (compose/images/build, recipe_hash).

# jvm_search_image <name> <base-tag>: builds $IMAGE_TAG, labelled
# $RECIPE_HASH, from compose/images/<name>/:
#   - the server and its modules come from Maven Central (pom.xml);
#   - the shared launcher (launcher/ here), told about the engine by the
#     image's launcher.properties, starts the node from config/<name>.yml;
#   - the JRE comes from a debootstrapped base image <base-tag> (lib.sh)
#     with the image's rootfs-hook.sh;
#   - rootfs/usr/share/<name>/ and the image's Dockerfile make the rest.
# Stops at once when $IMAGE_TAG already carries $RECIPE_HASH.
jvm_search_image() {
  _js_name=$1 _js_base=$2
  : "${IMAGE_TAG:?IMAGE_TAG is required}"
  : "${RECIPE_HASH:?RECIPE_HASH is required}"
  _js_here=$HOSSADM_ROOT/compose/images/$_js_name
  _js_stage=$HOSSADM_ROOT/.cache/$_js_name-image
  _js_home=$_js_stage/$_js_name

  if [ "$(image_recipe "$IMAGE_TAG")" = "$RECIPE_HASH" ]; then
    log "$_js_name: $IMAGE_TAG is up to date"
    return 0
  fi

  # Build tools: Maven resolves the jars, the JDK compiles the launcher.
  if ! command -v mvn >/dev/null || ! command -v javac >/dev/null || ! command -v jar >/dev/null; then
    log "$_js_name: installing maven and a JDK"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      maven openjdk-17-jdk-headless >&2 || die "$_js_name: could not install maven/openjdk-17-jdk-headless"
  fi

  rm -rf "$_js_stage"
  mkdir -p "$_js_home/lib" "$_js_stage/classes/org/hossadm/search"
  cp -R "$_js_here/rootfs/usr/share/$_js_name/." "$_js_home/"
  mkdir -p "$_js_home/data" "$_js_home/logs" "$_js_home/plugins" "$_js_home/modules"

  # MAVEN_REPO_LOCAL lets CI keep the artifact cache beside the work tree.
  set -- -B -q -f "$_js_here/pom.xml"
  if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then set -- "$@" "-Dmaven.repo.local=$MAVEN_REPO_LOCAL"; fi
  mvn "$@" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$_js_home/lib" >&2 \
    || die "$_js_name: resolving the server jars with Maven failed"

  # --release pins the bytecode to the base image's Java 17 whatever JDK builds
  # it. Verify looks up every engine class, member and module the launcher
  # names, as a compiler would for a launcher written against one engine.
  javac --release 17 -nowarn -d "$_js_stage/classes" -cp "$_js_home/lib/*" \
    $(find "$HOSSADM_ROOT/compose/images/jvm-search/launcher" -name '*.java') >&2 \
    || die "$_js_name: compiling the launcher failed"
  cp "$_js_here/launcher.properties" "$_js_stage/classes/org/hossadm/search/engine.properties"
  java -cp "$_js_stage/classes:$_js_home/lib/*" org.hossadm.search.Verify >&2 \
    || die "$_js_name: the launcher does not match the server jars (launcher.properties)"
  jar --create --file "$_js_home/lib/hossadm-$_js_name-launcher.jar" -C "$_js_stage/classes" . \
    || die "$_js_name: packaging the launcher failed"

  # The base carries the JRE and the engine's account; it is rebuilt only
  # when lib.sh, the package list or the hook change.
  ROOTFS_HOOK=$_js_here/rootfs-hook.sh
  rootfs_base "$_js_base" openjdk-17-jre-headless

  rm -rf "$_js_stage/classes"
  printf 'FROM %s\n' "$_js_base" | cat - "$_js_here/Dockerfile" >"$_js_stage/Dockerfile"
  image_build "$IMAGE_TAG" "$RECIPE_HASH" "$_js_stage"
  log "$_js_name: built $IMAGE_TAG"
}
