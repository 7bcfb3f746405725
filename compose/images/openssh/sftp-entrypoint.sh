#!/bin/sh
# SFTP server for one user; the contract is in README.md.
#   SFTP_USER (default hoss), SFTP_UID/SFTP_GID (default 1000),
#   SFTP_AUTHORIZED_KEYS (public key lines) or SFTP_AUTHORIZED_KEYS_FILE,
#   SFTP_PASSWORD or SFTP_PASSWORD_FILE (optional; turns passwords on),
#   SFTP_DIRS (folders under the home to create, comma-separated).
# Any other argument list is run as a command (ssh-keygen, sftp, a shell).
set -eu

[ $# -eq 0 ] || exec "$@"

die() { printf 'sftp-entrypoint: %s\n' "$*" >&2; exit 1; }

user=${SFTP_USER:-hoss} uid=${SFTP_UID:-1000} gid=${SFTP_GID:-1000}
case $user in
  root|''|-*|*[!a-z0-9_.-]*) die "SFTP_USER=$user is not a valid user name (lower-case letters, digits, . _ -; not root)" ;;
esac

keys=${SFTP_AUTHORIZED_KEYS:-}
if [ -n "${SFTP_AUTHORIZED_KEYS_FILE:-}" ]; then
  [ -r "$SFTP_AUTHORIZED_KEYS_FILE" ] || die "SFTP_AUTHORIZED_KEYS_FILE=$SFTP_AUTHORIZED_KEYS_FILE is not readable"
  keys=$(cat "$SFTP_AUTHORIZED_KEYS_FILE")
fi
password=${SFTP_PASSWORD:-}
if [ -n "${SFTP_PASSWORD_FILE:-}" ]; then
  [ -r "$SFTP_PASSWORD_FILE" ] || die "SFTP_PASSWORD_FILE=$SFTP_PASSWORD_FILE is not readable"
  password=$(cat "$SFTP_PASSWORD_FILE")
fi
[ -n "$keys" ] || [ -n "$password" ] || die "set SFTP_AUTHORIZED_KEYS (or SFTP_AUTHORIZED_KEYS_FILE) or SFTP_PASSWORD: nobody could log in"

# The account: made on the first start, kept on a restart of the container.
if ! getent passwd "$user" >/dev/null; then
  getent group "$gid" >/dev/null || groupadd -g "$gid" "$user"
  useradd -u "$uid" -g "$gid" -d "/home/$user" -M -s /usr/sbin/nologin "$user"
fi
[ "$(id -u "$user")" = "$uid" ] && [ "$(getent passwd "$user" | cut -d: -f6)" = "/home/$user" ] \
  || die "SFTP_USER=$user is an account of the image itself; choose another name"
home=/home/$user
mkdir -p "$home"
[ "$(stat -c %u "$home")" = "$uid" ] || chown "$uid:$gid" "$home"
chmod 0750 "$home"
set -f
IFS=,
for d in ${SFTP_DIRS:-}; do
  [ -n "$d" ] || continue
  mkdir -p "$home/$d"
  chown "$uid:$gid" "$home/$d"
done
unset IFS
set +f

# Without UsePAM, sshd refuses a locked account ("!") even for a key, so an
# account without a password gets "*": no password matches it.
if [ -n "$password" ]; then
  printf '%s:%s\n' "$user" "$password" | chpasswd
  set -- -o PasswordAuthentication=yes
else
  usermod -p '*' "$user"
fi
printf '%s\n' "$keys" >"/etc/ssh/authorized_keys/$user"
chmod 0644 "/etc/ssh/authorized_keys/$user"

# Host keys: made on the first start, kept in the volume afterwards, so the
# fingerprint a client pinned stays valid across restarts.
for t in ed25519 ecdsa rsa; do
  f=/etc/ssh/host-keys/ssh_host_${t}_key
  [ -s "$f" ] || ssh-keygen -q -t "$t" -N '' -C "" -f "$f"
done

exec /usr/sbin/sshd -D -e "$@"
