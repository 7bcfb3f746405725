# Shared by the image checks: every container, volume and network a check
# makes is named hx-img-<image>-*, and removed on exit, pass or fail.
set -eu
prefix=hx-img-$check_name
net=$prefix-net

fail() { printf 'check %s: FAIL: %s\n' "$check_name" "$*" >&2; exit 1; }
step() { printf 'check %s: %s\n' "$check_name" "$*" >&2; }

cleanup() {
  for c in $(docker ps -aq --filter "name=^$prefix-"); do docker rm -f -v "$c" >/dev/null 2>&1 || :; done
  for v in $(docker volume ls -q --filter "name=^$prefix-"); do docker volume rm "$v" >/dev/null 2>&1 || :; done
  docker network rm "$net" >/dev/null 2>&1 || :
  [ -z "${scratch:-}" ] || rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup
docker network create "$net" >/dev/null

# wait_for <seconds> <command...>: polls until the command succeeds.
wait_for() {
  _limit=$1; shift
  _t=0
  until "$@" >/dev/null 2>&1; do
    [ "$_t" -lt "$_limit" ] || return 1
    sleep 1; _t=$((_t + 1))
  done
  waited=$_t
}

# timed_stop <container>: docker stop, failing when it needs the SIGKILL.
timed_stop() {
  _s=$(date +%s)
  docker stop -t 30 "$1" >/dev/null
  _took=$(( $(date +%s) - _s ))
  _code=$(docker inspect -f '{{.State.ExitCode}}' "$1")
  [ "$_took" -lt 30 ] || fail "$1 needed ${_took}s to stop (killed)"
  step "stopped $1 in ${_took}s, exit code $_code"
  stop_code=$_code
}

ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$1"; }
