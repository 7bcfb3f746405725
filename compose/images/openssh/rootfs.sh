# Sourced by rootfs_import with ROOTFS set: Debian's openssh-server as an
# SFTP-only server.

# The package's postinst made host keys on the build host; every container
# makes its own at first start instead, so two containers never share one.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
# Debian's config (PAM, the motd, its includes) is replaced by sshd_config.
rm -rf "$ROOTFS/etc/ssh/sshd_config.d" "$ROOTFS/etc/motd" "$ROOTFS/etc/update-motd.d"
mkdir -p "$ROOTFS/run/sshd" "$ROOTFS/etc/ssh/host-keys" "$ROOTFS/etc/ssh/authorized_keys"
chmod 0755 "$ROOTFS/run/sshd"
chmod 0700 "$ROOTFS/etc/ssh/host-keys"
chmod 0755 "$ROOTFS/etc/ssh/authorized_keys"
