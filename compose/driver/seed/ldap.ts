// Seed LDAP entries: an organisational unit for people and one for groups,
// users (inetOrgPerson, with a fixed salted password hash and a non-ASCII
// name) and groups (groupOfNames). The two units are deleted with
// everything below them and added again, so seeding twice equals once.
import { createHash } from 'node:crypto';
import { OperationError } from '../../../src/errors.ts';
import type { StackContext } from '../context.ts';
import { execIn } from '../services/containers.ts';
import { ldapTool, ldapToolStatus, writeIntoLdap } from '../services/ldap.ts';

export const USERS_PER_SCALE = 50;
const GROUPS = ['admin', 'developers', 'readers', 'imaging', 'science'];

/** An {SSHA} value as slapd would store it, but with a salt derived from the user, not random. */
function sshaPassword(user: string): string {
  const salt = createHash('sha256').update(`salt:${user}`).digest().subarray(0, 8);
  const digest = createHash('sha1').update(`pw-${user}`).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** LDIF wants base64 for values that are not plain ASCII. */
function attr(name: string, value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) && !value.endsWith(' ')
    ? `${name}: ${value}`
    : `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}

export function seedLdif(base: string, scale: number): string {
  const entries: string[][] = [
    [`dn: ou=people,${base}`, 'objectClass: organizationalUnit', 'ou: people', 'description: HOSS users'],
    [`dn: ou=groups,${base}`, 'objectClass: organizationalUnit', 'ou: groups', 'description: HOSS groups'],
  ];
  const users: string[] = [];
  for (let i = 1; i <= USERS_PER_SCALE * scale; i++) {
    const uid = `user${String(i).padStart(4, '0')}`;
    users.push(uid);
    entries.push([
      `dn: uid=${uid},ou=people,${base}`,
      'objectClass: inetOrgPerson',
      `uid: ${uid}`,
      `cn: User ${i}`,
      `sn: ${i % 3 === 0 ? 'Müller' : 'Smith'}`,
      attr('givenName', i % 2 === 0 ? 'Zoë' : 'Sam'),
      `mail: ${uid}@hoss.example.org`,
      `employeeNumber: ${1000 + i}`,
      attr('userPassword', sshaPassword(uid)),
    ]);
  }
  GROUPS.forEach((group, g) => {
    const members = users.filter((_, u) => (u + g) % (g + 2) === 0);
    entries.push([
      `dn: cn=${group},ou=groups,${base}`,
      'objectClass: groupOfNames',
      `cn: ${group}`,
      `description: ${group} of HOSS`,
      ...(members.length > 0 ? members : users.slice(0, 1)).map((uid) => `member: uid=${uid},ou=people,${base}`),
    ]);
  });
  return `${entries.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

export async function seedLdap(ctx: StackContext, scale: number): Promise<void> {
  for (const ou of ['ou=groups', 'ou=people']) {
    const status = await ldapToolStatus(ctx, 'ldapdelete', ['-r', `${ou},${ctx.ldapBase}`]);
    // 32: no such object, i.e. nothing seeded yet.
    if (status !== 0 && status !== 32) throw new OperationError(`ldapdelete of ${ou} exited ${status}`);
  }
  const file = '/tmp/hoss-seed.ldif';
  await writeIntoLdap(ctx, file, seedLdif(ctx.ldapBase, scale));
  try {
    await ldapTool(ctx, 'ldapadd', ['-f', file]);
  } finally {
    await execIn(ctx, 'ldap', ['rm', '-f', file]).catch(() => undefined);
  }
}
