#!/bin/bash
# Entry point with the upstream cassandra image's contract. For `cassandra`
# (the default command; a first argument starting with '-' is an option of
# it), the environment is written into $CASSANDRA_CONF on every start:
#   CASSANDRA_CLUSTER_NAME                cluster_name ('Test Cluster')
#   CASSANDRA_NUM_TOKENS                  num_tokens (16)
#   CASSANDRA_LISTEN_ADDRESS              listen_address (auto: this container's IP)
#   CASSANDRA_BROADCAST_ADDRESS           broadcast_address (= listen address)
#   CASSANDRA_RPC_ADDRESS                 rpc_address (0.0.0.0; auto: the IP)
#   CASSANDRA_BROADCAST_RPC_ADDRESS       broadcast_rpc_address (= broadcast address)
#   CASSANDRA_SEEDS                       seeds (= broadcast address), comma list
#   CASSANDRA_ENDPOINT_SNITCH             endpoint_snitch (SimpleSnitch, or
#                                         GossipingPropertyFileSnitch with CASSANDRA_DC)
#   CASSANDRA_DC, CASSANDRA_RACK          cassandra-rackdc.properties (dc1, rack1)
#   CASSANDRA_AUTHENTICATOR               authenticator (AllowAllAuthenticator)
#   CASSANDRA_AUTHORIZER                  authorizer (AllowAllAuthorizer, or
#                                         CassandraAuthorizer with PasswordAuthenticator)
# Heap: MAX_HEAP_SIZE/HEAP_NEWSIZE (512M/128M), see /opt/cassandra/bin/cassandra.
# Started as root, it re-owns the state folders (an empty bind mount too) and
# re-executes itself as cassandra (uid 999) with setpriv, so the JVM is PID 1
# and receives docker stop's SIGTERM itself.
set -Eeuo pipefail

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ $# = 0 ] || [ "${1:0:1}" = '-' ]; then
  set -- cassandra -f "$@"
fi

if [ "${1:-}" != cassandra ]; then
  exec "$@"
fi

CASSANDRA_CONF=${CASSANDRA_CONF:-/etc/cassandra}

if [ "$(id -u)" = 0 ]; then
  mkdir -p /var/lib/cassandra /var/log/cassandra
  find /var/lib/cassandra /var/log/cassandra "$CASSANDRA_CONF" \! -user cassandra \
    -exec chown cassandra:cassandra '{}' +
  HOME=$(getent passwd cassandra | cut -d: -f6)
  export HOME
  exec setpriv --reuid=cassandra --regid=cassandra --init-groups "$BASH_SOURCE" "$@"
fi

# The first IPv4 address of this container (Docker's interface order), as the
# upstream image's "auto".
own_ip() {
  local a
  for a in $(hostname -I 2>/dev/null) $(hostname -i 2>/dev/null); do
    case $a in *:*|127.*) ;; *) printf '%s\n' "$a"; return 0 ;; esac
  done
  die "no IPv4 address found for auto; set CASSANDRA_LISTEN_ADDRESS"
}
auto() { if [ "$1" = auto ]; then own_ip; else printf '%s\n' "$1"; fi; }

: "${CASSANDRA_LISTEN_ADDRESS:=auto}"
CASSANDRA_LISTEN_ADDRESS=$(auto "$CASSANDRA_LISTEN_ADDRESS")
: "${CASSANDRA_BROADCAST_ADDRESS:=$CASSANDRA_LISTEN_ADDRESS}"
CASSANDRA_BROADCAST_ADDRESS=$(auto "$CASSANDRA_BROADCAST_ADDRESS")
: "${CASSANDRA_RPC_ADDRESS:=0.0.0.0}"
CASSANDRA_RPC_ADDRESS=$(auto "$CASSANDRA_RPC_ADDRESS")
: "${CASSANDRA_BROADCAST_RPC_ADDRESS:=$CASSANDRA_BROADCAST_ADDRESS}"
CASSANDRA_BROADCAST_RPC_ADDRESS=$(auto "$CASSANDRA_BROADCAST_RPC_ADDRESS")
: "${CASSANDRA_SEEDS:=$CASSANDRA_BROADCAST_ADDRESS}"
: "${CASSANDRA_NUM_TOKENS:=16}"
case $CASSANDRA_NUM_TOKENS in
  ''|*[!0-9]*) die "CASSANDRA_NUM_TOKENS must be a number, not '$CASSANDRA_NUM_TOKENS'" ;;
esac
if [ -n "${CASSANDRA_DC:-}" ]; then
  : "${CASSANDRA_ENDPOINT_SNITCH:=GossipingPropertyFileSnitch}"
fi
if [ -n "${CASSANDRA_AUTHENTICATOR:-}" ] && [ -z "${CASSANDRA_AUTHORIZER:-}" ]; then
  case ${CASSANDRA_AUTHENTICATOR##*.} in
    PasswordAuthenticator) CASSANDRA_AUTHORIZER=CassandraAuthorizer ;;
    AllowAllAuthenticator) CASSANDRA_AUTHORIZER=AllowAllAuthorizer ;;
  esac
fi

# set_line <file> <regex of the line> <new line>: replaces the first line
# matching, which must exist (the shipped files have each key on one line).
set_line() {
  local file=$1 re=$2 new=$3 tmp
  grep -Eq "$re" "$file" || die "$file has no line matching $re; is it the image's file?"
  tmp=$(mktemp "$CASSANDRA_CONF/.edit.XXXXXX")
  RE=$re NEW=$new awk '!done && $0 ~ ENVIRON["RE"] { print ENVIRON["NEW"]; done = 1; next } { print }' \
    "$file" >"$tmp"
  cat "$tmp" >"$file"
  rm -f "$tmp"
}
# A value goes into YAML single quotes, where only ' needs doubling.
yq() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }

# A node whose seeds are only itself has nobody to learn the ring from, so
# waiting the 30 s ring delay (before choosing tokens) and the 10 s before
# creating the default superuser buys nothing; a node with other seeds keeps
# Cassandra's delays. JVM_EXTRA_OPTS given by the user still wins.
lone_seed=1
IFS=, read -ra seed_list <<<"$CASSANDRA_SEEDS"
for seed in "${seed_list[@]}"; do
  seed=${seed//[[:space:]]/}
  [ -n "$seed" ] || continue
  seed=${seed%:*}
  case $seed in
    "$CASSANDRA_BROADCAST_ADDRESS"|"$CASSANDRA_LISTEN_ADDRESS") continue ;;
  esac
  addr=$(getent ahostsv4 "$seed" 2>/dev/null | awk 'NR == 1 { print $1 }') || addr=
  case $addr in
    "$CASSANDRA_BROADCAST_ADDRESS"|"$CASSANDRA_LISTEN_ADDRESS") continue ;;
  esac
  lone_seed=0
done
if [ "$lone_seed" = 1 ]; then
  export JVM_EXTRA_OPTS="-Dcassandra.ring_delay_ms=2000 -Dcassandra.superuser_setup_delay_ms=500 ${JVM_EXTRA_OPTS:-}"
fi

yaml=$CASSANDRA_CONF/cassandra.yaml
set_line "$yaml" '^(# )?num_tokens:' "num_tokens: $CASSANDRA_NUM_TOKENS"
for key in cluster_name listen_address broadcast_address rpc_address \
  broadcast_rpc_address endpoint_snitch; do
  var=CASSANDRA_${key^^}
  [ -n "${!var:-}" ] || continue
  set_line "$yaml" "^(# )?$key:" "$key: $(yq "${!var}")"
done
set_line "$yaml" '^[[:space:]]*- seeds:' "          - seeds: $(yq "$CASSANDRA_SEEDS")"
for key in authenticator authorizer; do
  var=CASSANDRA_${key^^}
  [ -n "${!var:-}" ] || continue
  set_line "$yaml" "^$key:" "$key: {class_name: $(yq "${!var}")}"
done
for key in dc rack; do
  var=CASSANDRA_${key^^}
  [ -n "${!var:-}" ] || continue
  set_line "$CASSANDRA_CONF/cassandra-rackdc.properties" "^$key=" "$key=${!var}"
done

exec "$@"
