#!/bin/sh
# The helper image hossadm runs to read and write volumes: the host's static
# busybox with every applet linked in /bin, like the upstream busybox image.
# Root needs a passwd entry so `id`, `ls -l` and tar show names.
. "$(dirname "$0")/../lib.sh"

bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || die "busybox: $bb is missing; apt-get install -y busybox-static"
file -L "$bb" 2>/dev/null | grep -q 'statically linked' \
  || ldd "$bb" 2>&1 | grep -q 'not a dynamic' \
  || die "busybox: $bb is not static; apt-get install -y busybox-static"

old=$(image_id "$IMAGE_TAG")
root=$(mktemp -d "${TMPDIR:-/var/tmp}/hoss-busybox.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/var/tmp" \
  "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"

tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
  | docker import \
      --change "LABEL $RECIPE_LABEL=$RECIPE_HASH" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["sh"]' \
      - "$IMAGE_TAG" >/dev/null
drop_replaced "$old" "$IMAGE_TAG"
