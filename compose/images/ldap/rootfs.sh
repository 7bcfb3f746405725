# Sourced by rootfs_import with ROOTFS set: Debian's slapd reshaped to the
# osixia/openldap layout the stack's volumes were made with.

# osixia renumbers openldap to 911:911; the ldap-vol0/ldap-vol1 volumes of a
# real deployment are owned that way.
rootfs_renumber openldap 911 openldap 911

# The package configured a placeholder directory; the entrypoint creates the
# real one on first start, from the environment. Empty folders here also keep
# Docker from seeding new named volumes with stale files.
rm -rf "$ROOTFS"/etc/ldap/slapd.d/* "$ROOTFS"/var/lib/ldap/* "$ROOTFS"/var/backups/*.ldapdb \
  "$ROOTFS"/var/backups/slapd-* "$ROOTFS"/var/backups/unknown-*
mkdir -p "$ROOTFS/etc/ldap/slapd.d" "$ROOTFS/var/lib/ldap" "$ROOTFS/run/slapd"
chown 911:911 "$ROOTFS/etc/ldap/slapd.d" "$ROOTFS/var/lib/ldap" "$ROOTFS/run/slapd"
chmod 750 "$ROOTFS/etc/ldap/slapd.d"
chmod 700 "$ROOTFS/var/lib/ldap"
