# Shared functions for compose/images/<name>/build.sh. POSIX sh; source it:
#   . "$(dirname "$0")/../lib.sh"
# No registry is reachable from the test hosts, so every image starts as a
# Debian rootfs made by debootstrap on the host and fed to `docker import`.

set -eu

# The repository root holds the shared download cache. Callers sit two levels
# below compose/images (compose/images/<name>/build.sh); HOSSADM_ROOT wins.
if [ -z "${HOSSADM_ROOT:-}" ]; then
  _lib_guess=$(cd "$(dirname "$0")/../../.." 2>/dev/null && pwd || true)
  if [ -n "$_lib_guess" ] && [ -f "$_lib_guess/compose/images/lib.sh" ]; then
    HOSSADM_ROOT=$_lib_guess
  else
    HOSSADM_ROOT=$(git rev-parse --show-toplevel)
  fi
fi

DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBOOTSTRAP_CACHE=${DEBOOTSTRAP_CACHE:-$HOSSADM_ROOT/.cache/debootstrap}
RECIPE_LABEL=org.hossadm.recipe

log() { printf '%s\n' "$*" >&2; }
die() { printf '%s\n' "$*" >&2; exit 1; }

# image_recipe <tag>: the recipe label of a local image, empty when absent.
image_recipe() {
  docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true
}

# rootfs_import <image-tag> <recipe-hash> <pkg,pkg,...> [docker import args...]
# Debootstraps a minbase bookworm with the packages, trims it and imports it
# labelled with the recipe hash. Extra args go to `docker import` as is
# (typically --change 'ENV ...' / --change 'USER ...').
# With ROOTFS_HOOK set to a file, that file is sourced after the packages are
# configured, with ROOTFS pointing at the tree (for users, config edits).
rootfs_import() (
  [ $# -ge 3 ] || die "rootfs_import: usage: <image-tag> <recipe-hash> <packages> [import args...]"
  tag=$1 hash=$2 pkgs=$3
  shift 3
  command -v debootstrap >/dev/null || die "rootfs_import: debootstrap is missing; apt-get install -y debootstrap"
  [ "$(id -u)" = 0 ] || die "rootfs_import: debootstrap needs root"

  mkdir -p "$DEBOOTSTRAP_CACHE"
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/hoss-rootfs.XXXXXX")
  trap 'rootfs_umount "$root"; rm -rf "$root"' EXIT
  trap 'exit 130' INT TERM

  # Stage one only unpacks; the policy below must exist before any postinst
  # runs, or slapd/rabbitmq/postgres would start servers on the build host.
  # The cache is shared by parallel builds, hence the lock.
  (
    flock 9
    debootstrap --foreign --variant=minbase --include="$pkgs" \
      --cache-dir="$DEBOOTSTRAP_CACHE" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >&2
  ) 9>"$DEBOOTSTRAP_CACHE/.lock" || die "rootfs_import: debootstrap of $tag failed"
  rootfs_deny_services "$root"
  chroot "$root" /debootstrap/debootstrap --second-stage >&2 \
    || die "rootfs_import: second stage of $tag failed (see $root/debootstrap/debootstrap.log)"
  if [ -n "${ROOTFS_HOOK:-}" ]; then
    ROOTFS=$root
    . "$ROOTFS_HOOK" || die "rootfs_import: hook $ROOTFS_HOOK failed for $tag"
  fi
  rootfs_umount "$root"
  rootfs_trim "$root"

  tar -C "$root" --numeric-owner -cf - . \
    | docker import --change "LABEL $RECIPE_LABEL=$hash" "$@" - "$tag" >/dev/null \
    || die "rootfs_import: docker import of $tag failed"
  log "rootfs_import: $tag ($pkgs)"
)

# rootfs_base <image-tag> <pkg,pkg,...> [import args...]: rootfs_import, but
# reuses the image when it was made from the same package list, args and
# hook, so editing an entrypoint does not re-run debootstrap (unless
# ROOTFS_REBUILD=1).
rootfs_base() {
  _base_tag=$1 _base_pkgs=$2
  shift 2
  _base_hash=$(printf '%s\n' "$DEBIAN_SUITE" "$_base_pkgs" "$@" \
    | cat - "$HOSSADM_ROOT/compose/images/lib.sh" ${ROOTFS_HOOK:+"$ROOTFS_HOOK"} | sha256sum | cut -c1-64)
  if [ "${ROOTFS_REBUILD:-0}" != 1 ] && [ "$(image_recipe "$_base_tag")" = "$_base_hash" ]; then
    log "rootfs_base: reusing $_base_tag"
    return 0
  fi
  rootfs_import "$_base_tag" "$_base_hash" "$_base_pkgs" "$@"
}

# Invoke-rc.d asks this policy before starting anything; 101 means "no".
rootfs_deny_services() {
  mkdir -p "$1/usr/sbin"
  printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
  chmod 755 "$1/usr/sbin/policy-rc.d"
}

# The second stage mounts /proc and /sys inside the chroot; they must be gone
# before the tree is archived or removed.
rootfs_umount() {
  for _m in proc/sys/fs/binfmt_misc proc sys dev/pts dev/shm; do
    if grep -q " $1/$_m " /proc/mounts 2>/dev/null; then umount -l "$1/$_m" 2>/dev/null || true; fi
  done
}

# Containers never run apt against a network, and docs/translations are
# dead weight; the C.UTF-8 locale lives in /usr/lib/locale and stays.
rootfs_trim() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* \
    "$1"/usr/share/locale/* "$1"/usr/share/lintian "$1"/usr/share/linda \
    "$1"/var/log/*.log "$1"/var/log/apt/* "$1"/debootstrap "$1"/tmp/* "$1"/var/tmp/*
  : >"$1/etc/hostname"
  rm -f "$1/etc/resolv.conf"
  # Keep later dpkg runs (if any) from bringing the docs back.
  mkdir -p "$1/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-exclude=/usr/share/man/*' \
    'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' \
    >"$1/etc/dpkg/dpkg.cfg.d/01-hoss-nodoc"
}

# rootfs_renumber <user> <uid> <group> <gid>: gives a package-made system
# account the fixed ids the upstream image uses, so files restored from a
# real deployment keep working. Runs inside a ROOTFS_HOOK.
rootfs_renumber() {
  _taken=$(chroot "$ROOTFS" getent passwd "$2" | cut -d: -f1)
  [ -z "$_taken" ] || [ "$_taken" = "$1" ] || die "rootfs_renumber: uid $2 already belongs to $_taken"
  _taken=$(chroot "$ROOTFS" getent group "$4" | cut -d: -f1)
  [ -z "$_taken" ] || [ "$_taken" = "$3" ] || die "rootfs_renumber: gid $4 already belongs to $_taken"
  _old_uid=$(chroot "$ROOTFS" id -u "$1")
  _old_gid=$(chroot "$ROOTFS" getent group "$3" | cut -d: -f3)
  if [ "$_old_gid" != "$4" ]; then
    chroot "$ROOTFS" groupmod -g "$4" "$3"
    find "$ROOTFS" -xdev -gid "$_old_gid" -exec chgrp -h "$4" {} +
  fi
  if [ "$_old_uid" != "$2" ]; then
    chroot "$ROOTFS" usermod -u "$2" "$1"
    find "$ROOTFS" -xdev -uid "$_old_uid" -exec chown -h "$2" {} +
  fi
  [ "$(chroot "$ROOTFS" id -g "$1")" = "$4" ] || chroot "$ROOTFS" usermod -g "$4" "$1"
}

# image_build <tag> <recipe-hash> <context-dir>: a Dockerfile build limited to
# COPY/ENV/metadata (containers have no network), labelled with the recipe.
image_build() {
  DOCKER_BUILDKIT=0 docker build -q --label "$RECIPE_LABEL=$2" -t "$1" "$3" >/dev/null \
    || die "image_build: docker build of $1 failed"
}

# image_id <tag>: the image a tag names now, empty when none.
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# drop_replaced <old-id> <tag>...: a rebuild moves the tags and leaves the old
# image dangling; remove it unless something (a container, another tag, a
# child image) still uses it, which docker rmi refuses by itself.
drop_replaced() {
  _old=$1; shift
  [ -n "$_old" ] || return 0
  for _t in "$@"; do [ "$(image_id "$_t")" != "$_old" ] || return 0; done
  docker rmi "$_old" >/dev/null 2>&1 || true
}
