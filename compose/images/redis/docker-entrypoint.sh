#!/bin/sh
# Entry point with the official redis image's contract:
#   `docker run image --appendonly yes` and `docker run image /x/redis.conf`
#   mean redis-server with those arguments; started as root, the entry point
#   gives /data to redis (uid 999) and drops to it, so redis-server is PID 1
#   and receives docker stop's SIGTERM itself (it saves, then exits 0).
# The official binary is built with protected mode off, so other containers
# may connect; Debian's is not, so it is turned off here on the command line
# when no config file is given (a config file says it itself).
set -eu

case "${1:-}" in
  -*|*.conf) set -- redis-server "$@" ;;
esac
[ "${1:-}" = redis-server ] || exec "$@"

if [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# As the official image: files Redis writes are private to it.
umask 0077
shift
case "${1:-}" in
  *.conf|-v|--version|-h|--help|--test-memory) exec redis-server "$@" ;;
esac
exec redis-server --protected-mode no "$@"
