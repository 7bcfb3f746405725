#!/bin/sh
# Entry point with the part of osixia/openldap's contract the stack uses:
#   LDAP_ORGANISATION, LDAP_DOMAIN (hoss.local -> dc=hoss,dc=local),
#   LDAP_BASE_DN (derived when unset), LDAP_ADMIN_PASSWORD (cn=admin,<base>),
#   LDAP_CONFIG_PASSWORD (cn=admin,cn=config), LDAP_READONLY_USER=true with
#   LDAP_READONLY_USER_USERNAME / LDAP_READONLY_USER_PASSWORD,
#   LDAP_LOG_LEVEL, and *.ldif files under
#   /container/service/slapd/assets/config/bootstrap/ldif/custom applied once.
# State: /etc/ldap/slapd.d (cn=config) and /var/lib/ldap (mdb), uid 911.
set -eu

conf=/etc/ldap/slapd.d
data=/var/lib/ldap
custom=/container/service/slapd/assets/config/bootstrap/ldif/custom

log() { printf '%s [ldap] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# osixia's run tool takes options of its own (the stack passes
# --copy-service); they mean nothing here. Anything else is a command.
while [ $# -gt 0 ]; do
  case "$1" in
    --loglevel|-l) if [ $# -ge 2 ]; then shift 2; else shift; fi ;;
    --*|-[a-z]) shift ;;
    *) exec "$@" ;;
  esac
done

is_empty() { [ -z "$(ls -A "$1" 2>/dev/null | grep -vx 'lost+found')" ]; }

domain=${LDAP_DOMAIN:-example.org}
if [ -z "${LDAP_BASE_DN:-}" ]; then
  LDAP_BASE_DN=$(printf '%s' "$domain" | sed 's/^/dc=/; s/\./,dc=/g')
fi
base=$LDAP_BASE_DN
admin="cn=admin,$base"
ro_user=${LDAP_READONLY_USER_USERNAME:-readonly}
ro_dn="cn=$ro_user,$base"
ro_enabled=${LDAP_READONLY_USER:-false}

# "name: value", or "name:: base64" when LDIF cannot carry the value as is.
attr() {
  if printf '%s' "$2" | LC_ALL=C grep -q '[^ -~]' || case "$2" in ' '*|:*|'<'*|*' ') true ;; *) false ;; esac; then
    printf '%s:: %s\n' "$1" "$(printf '%s' "$2" | base64 -w0)"
  else
    printf '%s: %s\n' "$1" "$2"
  fi
}

# Passwords reach slappasswd through a private file, never argv.
hash_password() {
  _f=$(mktemp)
  printf '%s' "$1" >"$_f"
  slappasswd -h '{SSHA}' -T "$_f"
  rm -f "$_f"
}

config_ldif() {
  peercred='dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth'
  ro_access=
  [ "$ro_enabled" != true ] || ro_access=" by dn.exact=\"$ro_dn\" read"
  cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcArgsFile: /run/slapd/slapd.args
olcPidFile: /run/slapd/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {0}back_mdb
olcModuleLoad: {1}memberof
olcModuleLoad: {2}refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

EOF
  for s in core cosine nis inetorgperson; do
    # Concatenated schema entries need a blank line between them.
    cat "/etc/ldap/schema/$s.ldif"
    echo
  done
  cat <<EOF
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500
olcAccess: {0}to * by $peercred manage by * break
olcAccess: {1}to dn.exact="" by * read
olcAccess: {2}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $(hash_password "${LDAP_CONFIG_PASSWORD:-config}")
olcAccess: {0}to * by $peercred manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $data
olcSuffix: $base
olcRootDN: $admin
olcRootPW: $(hash_password "${LDAP_ADMIN_PASSWORD:-admin}")
olcDbMaxSize: 1073741824
olcDbCheckpoint: 512 30
olcDbIndex: objectClass eq
olcDbIndex: cn,uid eq
olcDbIndex: uidNumber,gidNumber eq
olcDbIndex: member,memberUid eq
olcDbIndex: mail eq
olcLastMod: TRUE
olcAccess: {0}to * by $peercred manage by * break
olcAccess: {1}to attrs=userPassword,shadowLastChange by self write by dn="$admin" write by anonymous auth by * none
olcAccess: {2}to * by self read by dn="$admin" write$ro_access by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcConfig
objectClass: olcMemberOf
objectClass: olcOverlayConfig
olcOverlay: {0}memberof
olcMemberOfDangling: ignore
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfUniqueNames
olcMemberOfMemberAD: uniqueMember
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcConfig
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: owner
olcRefintAttribute: manager
olcRefintAttribute: uniqueMember
olcRefintAttribute: member
olcRefintAttribute: memberOf
EOF
}

base_ldif() {
  first_dc=$(printf '%s' "$base" | sed -n 's/^dc=\([^,]*\).*/\1/p')
  printf 'dn: %s\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n' "$base"
  attr o "${LDAP_ORGANISATION:-Example Inc.}"
  [ -z "$first_dc" ] || printf 'dc: %s\n' "$first_dc"
  printf '\ndn: %s\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: admin\ndescription: LDAP administrator\n' "$admin"
  printf 'userPassword: %s\n' "$(hash_password "${LDAP_ADMIN_PASSWORD:-admin}")"
  if [ "$ro_enabled" = true ]; then
    printf '\ndn: %s\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: %s\ndescription: LDAP read only user\n' "$ro_dn" "$ro_user"
    printf 'userPassword: %s\n' "$(hash_password "${LDAP_READONLY_USER_PASSWORD:-readonly}")"
  fi
}

# Custom LDIFs may use osixia's placeholders; the bind-mounted originals are
# never edited (what --copy-service protected upstream).
apply_custom() {
  set -- "$custom"/*.ldif
  [ -e "$1" ] || return 0
  log "applying $# custom LDIF file(s) through a local-only server"
  slapd -h ldapi:/// -u openldap -g openldap -F "$conf"
  _t=0
  until ldapsearch -Q -Y EXTERNAL -H ldapi:/// -s base -b "$base" dn >/dev/null 2>&1; do
    [ "$_t" -lt 30 ] || die "temporary slapd did not answer on ldapi:///"
    sleep 1; _t=$((_t + 1))
  done
  for f in "$@"; do
    tmp=$(mktemp)
    sed -e "s|{{ LDAP_BASE_DN }}|$base|g" -e "s|{{ LDAP_BACKEND }}|mdb|g" \
      -e "s|{{ LDAP_DOMAIN }}|$domain|g" -e "s|{{ LDAP_READONLY_USER_USERNAME }}|$ro_user|g" "$f" >"$tmp"
    log "applying $f"
    ldapmodify -a -c -Q -Y EXTERNAL -H ldapi:/// -f "$tmp" >&2 || { rm -f "$tmp"; die "custom LDIF $f failed"; }
    rm -f "$tmp"
  done
  kill -TERM "$(cat /run/slapd/slapd.pid)"
  _t=0
  while [ -e /run/slapd/slapd.pid ]; do
    [ "$_t" -lt 30 ] || die "temporary slapd did not stop"
    sleep 1; _t=$((_t + 1))
  done
}

mkdir -p /run/slapd "$conf" "$data"
chown openldap:openldap /run/slapd

if is_empty "$conf" && is_empty "$data"; then
  log "first start: creating $base (organisation ${LDAP_ORGANISATION:-Example Inc.})"
  tmp=$(mktemp -d)
  config_ldif >"$tmp/config.ldif"
  base_ldif >"$tmp/base.ldif"
  slapadd -q -n 0 -F "$conf" -l "$tmp/config.ldif" || die "creating cn=config failed"
  slapadd -q -n 1 -F "$conf" -l "$tmp/base.ldif" || die "creating $base failed"
  rm -rf "$tmp"
  chown -R openldap:openldap "$conf" "$data"
  apply_custom
  log "first start complete"
elif is_empty "$conf"; then
  die "$data holds a database but $conf is empty; restore both volumes together"
elif is_empty "$data"; then
  die "$conf holds a configuration but $data is empty; restore both volumes together"
fi

# Restored volumes may come back with other owners; slapd runs as openldap.
find "$conf" "$data" \! -user openldap -exec chown openldap:openldap '{}' +

log "starting slapd for $base"
exec slapd -h 'ldap:/// ldapi:///' -u openldap -g openldap -F "$conf" -d "${LDAP_LOG_LEVEL:-256}"
