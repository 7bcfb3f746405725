#!/bin/sh
# hoss-local/openssh:local: refuses to start with nobody able to log in;
# sshd is PID 1 with host keys of its own, kept across a restart; the user's
# key logs in over SFTP (upload, rename, read back), another key and a shell
# command do not; a password turns password logins on; stops cleanly.
# The client is the image's own ssh/sftp, so the host needs none.
check_name=openssh
. "$(dirname "$0")/common.sh"
img=hoss-local/openssh:local
scratch=$(mktemp -d)
chmod 0755 "$scratch"

keygen() { docker run --rm -v "$scratch:/out" "$img" sh -c "ssh-keygen -q -t ed25519 -N '' -C '' -f /out/$1 && chmod 0644 /out/$1"; }
keygen good
keygen bad

docker run --rm "$img" >/dev/null 2>&1 && fail "started with no key and no password"
docker run --rm -e SFTP_USER=backup -e SFTP_PASSWORD=x "$img" >/dev/null 2>&1 && fail "took over the image's own backup account"
step "refuses to start without SFTP_AUTHORIZED_KEYS or SFTP_PASSWORD: ok"

docker volume create "$prefix-hostkeys" >/dev/null
docker run -d --name "$prefix-s" --network "$net" -v "$prefix-hostkeys:/etc/ssh/host-keys" \
  -e SFTP_USER=archiver -e SFTP_UID=1234 -e SFTP_DIRS=archives,other \
  -e SFTP_AUTHORIZED_KEYS="$(cat "$scratch/good.pub")" "$img" >/dev/null
ip=$(ip_of "$prefix-s")
# sftp_as <key> <batch>: the batch through the image's own sftp client.
sftp_as() {
  printf '%s\n' "$2" | docker run --rm -i --network "$net" -v "$scratch:/k:ro" "$img" sh -c \
    "cp /k/$1 /tmp/id && chmod 0600 /tmp/id && exec sftp -b - -i /tmp/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null archiver@$ip" 2>&1
}
wait_for 30 sftp_as good 'pwd' || { docker logs "$prefix-s" 2>&1 | tail -20 >&2; fail "no SFTP login with the key"; }
[ "$(docker exec "$prefix-s" cat /proc/1/comm)" = sshd ] || fail "sshd is not PID 1"
[ "$(docker exec "$prefix-s" stat -c %u /home/archiver/archives)" = 1234 ] || fail "SFTP_DIRS not owned by SFTP_UID"
fp=$(docker exec "$prefix-s" ssh-keygen -lf /etc/ssh/host-keys/ssh_host_ed25519_key.pub)
step "sshd PID 1, user 1234, folders, host keys made: ok"

out=$(sftp_as good 'put /etc/passwd archives/a.partial
rename archives/a.partial archives/a
ls -l archives')
printf '%s\n' "$out" | grep -q 'archives/a$' || fail "upload and rename did not give archives/a: $out"
[ "$(docker exec "$prefix-s" stat -c %u /home/archiver/archives/a)" = 1234 ] || fail "uploaded file not owned by the user"
step "upload, rename, list: ok"

sftp_as bad 'pwd' >/dev/null && fail "another key logged in"
step "another key refused: ok"

shell=$(docker run --rm --network "$net" -v "$scratch:/k:ro" "$img" sh -c \
  "cp /k/good /tmp/id && chmod 0600 /tmp/id && ssh -i /tmp/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null archiver@$ip echo shell-ran" 2>&1 || :)
case $shell in *shell-ran*) fail "a shell command ran" ;; esac
step "no shell, SFTP only: ok"

timed_stop "$prefix-s"
[ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker start "$prefix-s" >/dev/null
wait_for 30 sftp_as good 'ls archives' || fail "no login after a restart"
[ "$(docker exec "$prefix-s" ssh-keygen -lf /etc/ssh/host-keys/ssh_host_ed25519_key.pub)" = "$fp" ] || fail "host key changed across a restart"
sftp_as good 'ls -1 archives' | grep -q 'archives/a$' || fail "file lost across a restart"
step "restart keeps host keys and files: ok"

docker run -d --name "$prefix-p" --network "$net" -e SFTP_PASSWORD='pw with space' "$img" >/dev/null
wait_for 30 docker exec "$prefix-p" test -s /run/sshd.pid || fail "password-only server did not start"
docker exec "$prefix-p" cat /proc/1/cmdline | tr '\0' ' ' | grep -q 'PasswordAuthentication=yes' \
  || fail "a password did not turn password logins on"
docker exec "$prefix-p" grep -q '^hoss:\$' /etc/shadow || fail "no password hash for hoss"
step PASS
