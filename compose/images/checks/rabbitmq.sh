#!/bin/sh
# hoss-local/rabbitmq:local against the official image's contract: default
# user from the environment, rabbitmqctl as root, a durable queue and a
# persistent message surviving a restart and a recreated container (same
# hostname), uid 100:101 in the volume, clean stop.
check_name=rabbitmq
. "$(dirname "$0")/common.sh"
img=hoss-local/rabbitmq:local
user=hoss pass='p"w\x #1'

run_rmq() {
  docker run -d --name "$prefix-srv" --network "$net" --hostname rabbitmq \
    -e RABBITMQ_DEFAULT_USER="$user" -e RABBITMQ_DEFAULT_PASS="$pass" \
    -v "$prefix-data:/var/lib/rabbitmq" "$img" >/dev/null
  _s=$(date +%s)
  wait_for 90 docker exec "$prefix-srv" rabbitmq-diagnostics -q check_port_connectivity \
    || { docker logs "$prefix-srv" 2>&1 | tail -20 >&2; fail "broker did not start"; }
  step "broker ready in $(( $(date +%s) - _s ))s"
  ip=$(ip_of "$prefix-srv")
}
api() { # <method> <path> [json]
  curl -sf -u "$user:$pass" -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "http://$ip:15672/api$2"
}
queue_messages() {
  docker exec "$prefix-srv" rabbitmqctl -q list_queues name messages | awk '$1 == "hx" {print $2}'
}

step "first start"
run_rmq
api PUT /queues/%2F/hx '{"durable":true}' >/dev/null || fail "declare a queue with the default user"
api POST /exchanges/%2F/amq.default/publish \
  '{"properties":{"delivery_mode":2},"routing_key":"hx","payload":"kept","payload_encoding":"string"}' \
  | grep '"routed":true' >/dev/null || fail "publish"
[ "$(queue_messages)" = 1 ] || fail "rabbitmqctl list_queues as root"
docker exec "$prefix-srv" rabbitmqctl -q list_users | grep "^$user[[:space:]].*administrator" >/dev/null || fail "default user is not administrator"
if curl -sf -u "$user:wrong" "http://$ip:15672/api/overview" >/dev/null; then fail "wrong password accepted"; fi
[ "$(docker exec "$prefix-srv" rabbitmqctl eval 'node().' | tr -d "'\r")" = rabbit@rabbitmq ] || fail "node name"
docker exec "$prefix-srv" sh -c 'find /var/lib/rabbitmq -printf "%U:%G\n" | sort -u' | grep -vx '100:101' >/dev/null && fail "volume files not 100:101"
[ "$(docker exec "$prefix-srv" stat -c %a:%U /var/lib/rabbitmq/.erlang.cookie)" = 400:rabbitmq ] || fail "cookie"
step "default user, queue, rabbitmqctl, node name, uid 100:101, cookie: ok"

timed_stop "$prefix-srv"
[ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker start "$prefix-srv" >/dev/null
wait_for 90 docker exec "$prefix-srv" rabbitmq-diagnostics -q check_port_connectivity || fail "restart"
[ "$(queue_messages)" = 1 ] || fail "message lost on restart"
step "restart keeps the queue and its message"

docker rm -f "$prefix-srv" >/dev/null
run_rmq
[ "$(queue_messages)" = 1 ] || fail "message lost with a recreated container"
api GET /whoami >/dev/null || fail "default user lost with a recreated container"
step PASS
