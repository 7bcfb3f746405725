#!/bin/sh
# Builds $IMAGE_TAG: one Apache Cassandra 5.0 node behaving like the upstream
# cassandra image where the HOSS stacks rely on it (environment, paths,
# uid 999, ports, nodetool/sstableloader/cqlsh on PATH).
#   - the server and its tools come from Maven Central (pom.xml);
#   - cqlsh and the Python driver are PyPI wheels fetched on this host
#     (cqlsh-requirements.txt) and unpacked into the image, which has no network;
#   - launchers (bin/), configuration (conf/) and the entry point come from
#     this folder; the JRE and Python from a debootstrapped base (lib.sh).
# Run by compose/images/build with IMAGE_TAG, RECIPE_HASH and HOSSADM_ROOT.
set -eu

. "$(dirname "$0")/../lib.sh"

: "${IMAGE_TAG:?IMAGE_TAG is required}"
: "${RECIPE_HASH:?RECIPE_HASH is required}"

HERE=$HOSSADM_ROOT/compose/images/cassandra
BASE_TAG=${CASSANDRA_BASE_TAG:-hoss-local/cassandra-rootfs:local}
STAGE=$HOSSADM_ROOT/.cache/cassandra-image
WHEELS=$HOSSADM_ROOT/.cache/cassandra-wheels

if [ "$(image_recipe "$IMAGE_TAG")" = "$RECIPE_HASH" ]; then
  log "cassandra: $IMAGE_TAG is up to date"
  exit 0
fi

if ! command -v mvn >/dev/null; then
  log "cassandra: installing maven"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    maven openjdk-17-jdk-headless >&2 || die "cassandra: could not install maven"
fi
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  log "cassandra: installing pip"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >&2 \
    || die "cassandra: could not install python3-pip"
  PYTHON=/usr/bin/python3
fi

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id "$BASE_TAG")
rm -rf "$STAGE"
mkdir -p "$STAGE/opt/cassandra/lib" "$STAGE/opt/cassandra/bin" "$STAGE/opt/cqlsh" \
  "$STAGE/etc/cassandra" "$STAGE/usr/local/bin" "$WHEELS"

# --- server jars ------------------------------------------------------------
# MAVEN_REPO_LOCAL lets CI keep the artifact cache beside the work tree.
set -- -B -q -f "$HERE/pom.xml"
if [ -n "${MAVEN_REPO_LOCAL:-}" ]; then set -- "$@" "-Dmaven.repo.local=$MAVEN_REPO_LOCAL"; fi
mvn "$@" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$STAGE/opt/cassandra/lib" >&2 \
  || die "cassandra: resolving the server jars with Maven failed"
[ -f "$STAGE/opt/cassandra/lib/cassandra-all-5.0.6.jar" ] || die "cassandra: cassandra-all-5.0.6.jar missing after Maven"

# Netty's native helpers come for every platform; keep this machine's only.
case $(uname -m) in
  x86_64) keep=linux-x86_64 ;;
  aarch64) keep=linux-aarch_64 ;;
  *) keep=none ;;
esac
for f in "$STAGE"/opt/cassandra/lib/*-osx-*.jar "$STAGE"/opt/cassandra/lib/*-windows-*.jar \
  "$STAGE"/opt/cassandra/lib/*-linux-*.jar; do
  [ -f "$f" ] || continue
  case $f in *"-$keep.jar") ;; *) rm -f "$f" ;; esac
done

# --- cqlsh ------------------------------------------------------------------
# Wheels for the image's CPython 3.11 on glibc, whatever Python runs pip here.
# The wheel folder is a cache: a warm build installs from it without network.
pipargs="--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64"
[ "$(uname -m)" = x86_64 ] || pipargs=$(printf '%s' "$pipargs" | sed 's/x86_64/aarch64/g')
pip_install() {
  # shellcheck disable=SC2086
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" \
    --target "$STAGE/opt/cqlsh" --no-compile $pipargs -r "$HERE/cqlsh-requirements.txt" >&2
}
if ! pip_install 2>/dev/null; then
  log "cassandra: fetching the cqlsh wheels"
  # shellcheck disable=SC2086
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$PYTHON" -m pip download -q --dest "$WHEELS" $pipargs \
    -r "$HERE/cqlsh-requirements.txt" >&2 || die "cassandra: downloading the cqlsh wheels failed"
  rm -rf "$STAGE/opt/cqlsh" && mkdir -p "$STAGE/opt/cqlsh"
  pip_install || die "cassandra: installing cqlsh into the image tree failed"
fi
# Console scripts would name this host's interpreter; bin/cqlsh replaces them.
rm -rf "$STAGE/opt/cqlsh/bin"
find "$STAGE/opt/cqlsh" -name __pycache__ -type d -prune -exec rm -rf {} +
# cqlsh 6.2 is the shell of the 5.0 series but compares its own "built
# against" release (5.0.0) with the server's and prints a warning to standard
# output on every run, which spoils scripted output; name the image's server.
sv=$STAGE/opt/cqlsh/cqlshlib/serverversion.py
grep -q '^version = ' "$sv" || die "cassandra: $sv has no version line"
sed -i 's/^version = .*/version = "5.0.6"/' "$sv"
# Byte code made here (same 3.11 format), checked by hash rather than mtime,
# saves every cqlsh run (health checks) from compiling cqlshlib and the driver.
if "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  "$PYTHON" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$STAGE/opt/cqlsh" >&2 \
    || die "cassandra: compiling cqlsh failed"
fi

# --- launchers, configuration, entry point ----------------------------------
cp "$HERE"/bin/* "$STAGE/opt/cassandra/bin/"
cp "$HERE"/conf/* "$STAGE/etc/cassandra/"
cp "$HERE/docker-entrypoint.sh" "$STAGE/usr/local/bin/"
chmod 755 "$STAGE"/opt/cassandra/bin/* "$STAGE/usr/local/bin/docker-entrypoint.sh"
chmod 644 "$STAGE"/opt/cassandra/bin/cassandra.in.sh "$STAGE"/etc/cassandra/*
ln -s /etc/cassandra "$STAGE/opt/cassandra/conf"

# The base carries the JRE, Python and the cassandra account; it is rebuilt
# only when lib.sh, the package list or the hook change.
ROOTFS_HOOK=$HERE/rootfs-hook.sh
rootfs_base "$BASE_TAG" openjdk-17-jre-headless,python3

printf 'FROM %s\n' "$BASE_TAG" | cat - "$HERE/Dockerfile" >"$STAGE/Dockerfile"
image_build "$IMAGE_TAG" "$RECIPE_HASH" "$STAGE"
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" "$BASE_TAG"
rm -rf "$STAGE"
log "cassandra: built $IMAGE_TAG"
