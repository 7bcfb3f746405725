#!/bin/sh
# The host tools that building the local images and running the tests use:
# debootstrap and a static busybox (image builds), zstd (archives read by
# standard tools in tests), getfattr (unit tests run the helper scripts that
# copy extended attributes on this host). On a root Debian host missing ones are installed
# from Debian's packages; elsewhere a one-line error names what to install.
set -eu

missing=""
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
# ldd succeeds only on a dynamic binary; the image needs the static one.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then missing="$missing busybox-static"; fi
command -v zstd >/dev/null 2>&1 || missing="$missing zstd"
command -v getfattr >/dev/null 2>&1 || missing="$missing attr"
[ -n "$missing" ] || exit 0

if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
  echo "host-tools: installing$missing" >&2
  # shellcheck disable=SC2086
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1; then
    apt-get update -qq >&2 || { echo "host-tools: apt-get update failed; check the network to the Debian mirror" >&2; exit 1; }
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 || { echo "host-tools: apt-get install$missing failed" >&2; exit 1; }
  fi
  exit 0
fi
echo "host-tools: missing$missing; install them (Debian:$missing) and retry" >&2
exit 1
