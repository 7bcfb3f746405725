#!/bin/sh
# Makes sure a Docker engine answers and docker-compose (v1) exists, so the
# reference stack and the integration tests have something to run on.
# On a root Debian host it installs and starts what is missing; elsewhere it
# only reports, because starting a daemon is the operator's decision there.
# Safe to run again: it does nothing when everything already answers.
set -eu

say() { printf 'engine: %s\n' "$*" >&2; }
fail() { printf 'engine: %s\n' "$*" >&2; exit 1; }

host=${DOCKER_HOST:-unix:///var/run/docker.sock}
log=/var/log/hossadm-dockerd.log

is_root_debian() {
  [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1
}

answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

dockerd_running() {
  if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then return 0; fi
  pidof dockerd >/dev/null 2>&1
}

engine_version() {
  docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'
}

apt_install() {
  # A fresh host may not know the package until the lists are fetched.
  if ! apt-cache show "$1" >/dev/null 2>&1; then
    apt-get update -qq >&2 || fail "apt-get update failed; check the network to the Debian mirror"
  fi
  # Postinst scripts must not try (and fail) to start services through an init
  # system that is not there; dockerd is started below instead.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "$@" >&2 \
    || fail "apt-get install $* failed"
}

# The engine lives elsewhere (tcp://, ssh://, another socket): nothing here
# can start it, only say that it does not answer.
local_default=1
case "$host" in
  unix:///var/run/docker.sock|unix:///run/docker.sock) ;;
  *) local_default=0 ;;
esac

if answers; then
  say "Docker $(engine_version) answers at $host"
else
  if [ "$local_default" = 0 ]; then
    fail "no Docker engine answers at $host (DOCKER_HOST); start it or unset DOCKER_HOST"
  fi
  if ! is_root_debian; then
    if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
      fail "cannot use /var/run/docker.sock as $(id -un); add the user to the docker group or set DOCKER_HOST"
    fi
    fail "no Docker engine answers at $host and this is not a root Debian host; start Docker or set DOCKER_HOST"
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    say "installing docker.io"
    apt_install docker.io
  fi
  if dockerd_running; then
    say "dockerd is running but not answering yet; waiting"
  else
    say "starting dockerd (log: $log)"
    nohup dockerd >>"$log" 2>&1 </dev/null &
  fi
  waited=0
  until answers; do
    [ "$waited" -lt 60 ] || fail "dockerd did not answer within 60 s; see $log"
    sleep 1
    waited=$((waited + 1))
  done
  say "Docker $(engine_version) answers at $host after ${waited}s"
fi

if command -v docker-compose >/dev/null 2>&1; then
  :
elif is_root_debian; then
  say "installing docker-compose (v1)"
  apt_install docker-compose
  command -v docker-compose >/dev/null 2>&1 || fail "docker-compose still missing after apt-get install"
else
  fail "docker-compose is missing; install docker-compose (v1) or run as root on Debian"
fi
