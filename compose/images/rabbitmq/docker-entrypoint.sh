#!/bin/sh
# Entry point with the official rabbitmq image's contract:
#   RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS / RABBITMQ_DEFAULT_VHOST make
#   that administrator on the first start of an empty /var/lib/rabbitmq,
#   RABBITMQ_ERLANG_COOKIE (optional) fixes the cookie, RABBITMQ_NODENAME
#   defaults to rabbit@<hostname>.
# The node name embeds the hostname and mnesia is kept per node name, so the
# compose service needs a fixed `hostname:` or a recreated container starts
# with an empty broker next to the old data.
set -eu

data=/var/lib/rabbitmq
cookie=$data/.erlang.cookie
gen=/etc/rabbitmq/conf.d

# `docker run image -foo` means options for the server.
case "${1:-}" in -*) set -- rabbitmq-server "$@" ;; esac
[ "${1:-}" = rabbitmq-server ] || exec "$@"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$data" "$gen"
  find "$data" /etc/rabbitmq /var/log/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$0" "$@"
fi

# The cookie is made here, as rabbitmq, before anything else can: a CLI tool
# run as root first would otherwise create it owned by root and lock the
# broker out.
if [ -n "${RABBITMQ_ERLANG_COOKIE:-}" ]; then
  umask 077
  rm -f "$cookie"
  printf '%s' "$RABBITMQ_ERLANG_COOKIE" >"$cookie"
  chmod 400 "$cookie"
elif [ ! -s "$cookie" ]; then
  umask 077
  tr -dc 'A-Z' </dev/urandom | head -c 20 >"$cookie"
  chmod 400 "$cookie"
fi
umask 022

# Defaults the broker reads only while its database is empty. Erlang terms
# carry any password verbatim, which the key = value format cannot.
erl_bin() { printf '<<"%s"/utf8>>' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
if [ -n "${RABBITMQ_DEFAULT_USER:-}${RABBITMQ_DEFAULT_PASS:-}${RABBITMQ_DEFAULT_VHOST:-}" ]; then
  {
    printf '[{rabbit, ['
    sep=
    if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then printf '{default_user, %s}' "$(erl_bin "$RABBITMQ_DEFAULT_USER")"; sep=', '; fi
    if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then printf '%s{default_pass, %s}' "$sep" "$(erl_bin "$RABBITMQ_DEFAULT_PASS")"; sep=', '; fi
    if [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ]; then printf '%s{default_vhost, %s}' "$sep" "$(erl_bin "$RABBITMQ_DEFAULT_VHOST")"; fi
    printf ']}].\n'
  } >/etc/rabbitmq/advanced.config
else
  rm -f /etc/rabbitmq/advanced.config
fi

# Listen everywhere and let the default guest user in from other
# containers, as the official image's generated configuration does.
cat >"$gen/10-defaults.conf" <<'EOF'
loopback_users.guest = false
listeners.tcp.default = 5672
management.tcp.port = 15672
EOF

shift
exec rabbitmq-server "$@"
