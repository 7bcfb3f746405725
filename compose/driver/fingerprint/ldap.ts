// LDAP compared logically: the entries of the directory (user attributes
// only; operational ones such as entryCSN or modifyTimestamp are not asked
// for), not the MDB files in ldap-vol0 that slapd rewrites as it runs.
import type { StackContext } from '../context.ts';
import { execIn } from '../services/containers.ts';
import { adminDn, ldapTool } from '../services/ldap.ts';
import { canonicalJson, sha256 } from './canonical.ts';
import { parseLdif } from './ldif.ts';

export interface LdapFingerprint {
  entries: number;
  sha256: string;
  /**
   * The admin entry's password hash and the server's own configuration
   * (cn=config in ldap-vol1: schema, databases, root password hash). Both
   * hold a salted hash of LDAP_ADMIN_PASSWORD, so they differ between
   * installations; everything else depends only on the seed.
   */
  admin: string;
  config: string;
}

export async function fingerprintLdap(ctx: StackContext): Promise<LdapFingerprint> {
  const text = await ldapTool(ctx, 'ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-b', ctx.ldapBase, '(objectClass=*)', '*']);
  const entries = parseLdif(text);
  const admin = entries.find((e) => e.dn.toLowerCase() === adminDn(ctx).toLowerCase());
  const adminPassword = admin?.attributes.userpassword ?? [];
  if (admin) delete admin.attributes.userpassword;
  // cn=config answers only root over the local socket (SASL EXTERNAL).
  const configText = await execIn(ctx, 'ldap', ['ldapsearch', '-Q', '-LLL', '-Y', 'EXTERNAL', '-H', 'ldapi:///', '-o', 'ldif-wrap=no', '-b', 'cn=config', '(objectClass=*)', '*']);
  return {
    entries: entries.length,
    sha256: sha256(canonicalJson(entries)),
    admin: sha256(canonicalJson(adminPassword)),
    config: sha256(canonicalJson(parseLdif(configText))),
  };
}
