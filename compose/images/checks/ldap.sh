#!/bin/sh
# hoss-local/ldap:local against the osixia/openldap contract the stack uses:
# --copy-service, admin and read-only binds over TCP, a custom bootstrap
# LDIF, uid 911 on both volumes, persistence and a clean stop.
check_name=ldap
. "$(dirname "$0")/common.sh"
img=hoss-local/ldap:local
scratch=$(mktemp -d)
cat >"$scratch/config-ldap.ldif" <<'LDIF'
dn: ou=People,{{ LDAP_BASE_DN }}
objectClass: organizationalUnit
ou: People

dn: cn=jane,ou=People,{{ LDAP_BASE_DN }}
objectClass: inetOrgPerson
cn: jane
sn: Doe
mail: jane@hoss.local
userPassword: foo

dn: cn=admins,{{ LDAP_BASE_DN }}
objectClass: groupOfUniqueNames
cn: admins
uniqueMember: cn=jane,ou=People,{{ LDAP_BASE_DN }}
LDIF
chmod 644 "$scratch/config-ldap.ldif"

run_ldap() {
  docker run -d --name "$prefix-srv" --network "$net" --hostname ldap \
    -e LDAP_ORGANISATION='HÖSS Test' -e LDAP_DOMAIN=hoss.local -e LDAP_ADMIN_PASSWORD='adm in#1' \
    -e LDAP_READONLY_USER=true -e LDAP_READONLY_USER_PASSWORD=ro -e LDAP_TLS_VERIFY_CLIENT=try \
    -v "$prefix-vol0:/var/lib/ldap" -v "$prefix-vol1:/etc/ldap/slapd.d" \
    -v "$scratch/config-ldap.ldif:/container/service/slapd/assets/config/bootstrap/ldif/custom/config-ldap.ldif" \
    "$img" --copy-service >/dev/null
}
search() { # <bind-dn> <password> <filter> [attrs...]
  _dn=$1 _pw=$2; shift 2
  docker run --rm --network "$net" --entrypoint ldapsearch "$img" -LLL -o ldif-wrap=no -x -H "ldap://$ip" \
    -D "$_dn" -w "$_pw" -b dc=hoss,dc=local "$@"
}

step "first start"
run_ldap
wait_for 60 docker exec "$prefix-srv" ldapsearch -x -H ldap://127.0.0.1 -D 'cn=admin,dc=hoss,dc=local' -w 'adm in#1' -b dc=hoss,dc=local '(cn=jane)' dn \
  || { docker logs "$prefix-srv" 2>&1 | tail -20 >&2; fail "slapd did not answer"; }
step "answers on TCP after ${waited}s"
ip=$(ip_of "$prefix-srv")
search 'cn=admin,dc=hoss,dc=local' 'adm in#1' '(cn=jane)' mail | grep '^mail: jane@hoss.local' >/dev/null || fail "admin bind over TCP"
search 'cn=admin,dc=hoss,dc=local' 'adm in#1' '(cn=jane)' memberOf | grep '^memberOf: cn=admins,dc=hoss,dc=local' >/dev/null || fail "memberOf overlay"
search 'cn=readonly,dc=hoss,dc=local' ro '(cn=jane)' dn | grep '^dn: cn=jane' >/dev/null || fail "read-only user cannot read"
search 'cn=admin,dc=hoss,dc=local' 'adm in#1' -s base '(objectClass=*)' o | grep '^o:: ' >/dev/null || fail "non-ASCII organisation"
if search 'cn=admin,dc=hoss,dc=local' wrong '(cn=jane)' dn >/dev/null 2>&1; then fail "wrong admin password accepted"; fi
[ -z "$(docker run --rm --network "$net" --entrypoint ldapsearch "$img" -LLL -x -H "ldap://$ip" -b dc=hoss,dc=local '(cn=jane)' dn 2>/dev/null)" ] \
  || fail "anonymous read allowed"
owners=$(docker exec "$prefix-srv" sh -c 'find /var/lib/ldap /etc/ldap/slapd.d -printf "%u:%g\n" | sort -u')
[ "$owners" = "911:911" ] || [ "$owners" = "openldap:openldap" ] || fail "volume owners: $owners"
[ "$(docker exec "$prefix-srv" id -u openldap)" = 911 ] || fail "openldap uid"
docker exec "$prefix-srv" slapcat -n 1 | grep '^dn: cn=jane,ou=People,dc=hoss,dc=local' >/dev/null || fail "slapcat"
step "binds, ACLs, custom LDIF, memberOf, uid 911, slapcat: ok"

printf 'dn: cn=john,ou=People,dc=hoss,dc=local\nobjectClass: inetOrgPerson\ncn: john\nsn: Roe\n' \
  | docker exec -i "$prefix-srv" ldapadd -x -H ldap://127.0.0.1 -D 'cn=admin,dc=hoss,dc=local' -w 'adm in#1' >/dev/null
timed_stop "$prefix-srv"
[ "$stop_code" = 0 ] || fail "exit code $stop_code on stop"
docker logs "$prefix-srv" 2>&1 | grep 'slapd stopped' >/dev/null || fail "no clean shutdown in the log"

step "restart on the same volumes"
docker start "$prefix-srv" >/dev/null
wait_for 30 docker exec "$prefix-srv" ldapsearch -Q -Y EXTERNAL -H ldapi:/// -b dc=hoss,dc=local -s base dn || fail "restart"
search 'cn=admin,dc=hoss,dc=local' 'adm in#1' '(cn=john)' dn | grep '^dn: cn=john' >/dev/null || fail "entry lost on restart"
[ "$(docker logs "$prefix-srv" 2>&1 | grep -c 'first start complete')" = 1 ] || fail "initialised twice"
docker rm -f "$prefix-srv" >/dev/null
step "persistence: ok"

step "config volume without its database is refused"
docker volume rm "$prefix-vol0" >/dev/null
if docker run --rm -v "$prefix-vol0:/var/lib/ldap" -v "$prefix-vol1:/etc/ldap/slapd.d" "$img" >"$scratch/out" 2>&1; then
  fail "started with an empty database volume"
fi
grep -q 'restore both volumes' "$scratch/out" || fail "no hint for a half-restored pair"
step PASS
