#!/bin/sh
# GNU tar and getfattr from Debian bookworm's tar and attr packages, dash
# as /bin/sh, and the host's static busybox for the small tools the helper
# scripts use: the image the objectstore kind's files mode copies a data
# folder with, keeping its extended attributes (busybox tar drops them).
# Only the two binaries and the libraries they load are taken from the
# Debian rootfs, so the image stays a few MB. See compose/images/README.md.
. "$(dirname "$0")/../lib.sh"

bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || die "gnutar: $bb is missing; apt-get install -y busybox-static"
ldd "$bb" >/dev/null 2>&1 && die "gnutar: $bb is not static; apt-get install -y busybox-static"

old_final=$(image_id "$IMAGE_TAG") old_base=$(image_id hoss-local/gnutar-rootfs:local)
rootfs_base hoss-local/gnutar-rootfs:local attr

src=$(mktemp -d "${TMPDIR:-/var/tmp}/hoss-gnutar-src.XXXXXX")
root=$(mktemp -d "${TMPDIR:-/var/tmp}/hoss-gnutar.XXXXXX")
cid=$(docker create hoss-local/gnutar-rootfs:local true)
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true; rm -rf "$src" "$root"' EXIT
docker export "$cid" | tar -C "$src" -xf -

# Debian's merged /usr: /lib and /lib64 lead into /usr, so the loader and
# libraries land where ldd names them.
mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/lib" "$root/usr/lib64" "$root/etc" "$root/root" \
  "$root/tmp" "$root/var/tmp" "$root/proc" "$root/sys" "$root/dev"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
for binary in /usr/bin/tar /usr/bin/getfattr /usr/bin/dash; do
  for path in "$binary" $(chroot "$src" ldd "$binary" | grep -o '/[^ ]*'); do
    real=$(chroot "$src" readlink -f "$path")
    mkdir -p "$root$(dirname "$path")"
    cp "$src$real" "$root$path"
  done
done
chroot "$root" /usr/bin/tar --version >/dev/null || die "gnutar: tar does not run in the assembled tree"
chroot "$root" /usr/bin/getfattr --version >/dev/null || die "gnutar: getfattr does not run in the assembled tree"
# The shell is dash, not busybox sh, which would run busybox's own tar
# applet whatever PATH says; busybox gives the rest (find, stat, awk, sort).
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  case $applet in busybox | sh | tar) continue ;; esac
  ln -s busybox "$root/bin/$applet"
done
ln -s /usr/bin/dash "$root/bin/sh"

printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"

tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
  | docker import \
      --change "LABEL $RECIPE_LABEL=$RECIPE_HASH" \
      --change 'ENV PATH=/usr/bin:/bin LANG=C.UTF-8' \
      --change 'CMD ["sh"]' \
      - "$IMAGE_TAG" >/dev/null
drop_replaced "$old_final" "$IMAGE_TAG"
drop_replaced "$old_base" hoss-local/gnutar-rootfs:local
