// LDAP through the client tools inside the ldap container, bound as the
// admin. The password reaches them in the exec's environment, never argv.
import type { StackContext } from '../context.ts';
import { execIn } from './containers.ts';

export function adminDn(ctx: StackContext): string {
  return `cn=admin,${ctx.ldapBase}`;
}

function bindEnv(ctx: StackContext): Record<string, string> {
  return { BIND_DN: adminDn(ctx), BIND_PW: ctx.env.LDAP_ADMIN_PASSWORD! };
}

/** Runs an OpenLDAP client (ldapsearch, ldapadd, ldapdelete) with a simple admin bind. */
export async function ldapTool(ctx: StackContext, tool: string, args: readonly string[]): Promise<string> {
  const script = 'tool=$1; shift; exec "$tool" -x -H ldap://127.0.0.1 -D "$BIND_DN" -w "$BIND_PW" "$@"';
  return execIn(ctx, 'ldap', ['sh', '-c', script, 'ldap', tool, ...args], { env: bindEnv(ctx) });
}

/** Same, but returns the exit code instead of throwing (ldapdelete of a missing entry is 32). */
export async function ldapToolStatus(ctx: StackContext, tool: string, args: readonly string[]): Promise<number> {
  try {
    await ldapTool(ctx, tool, args);
    return 0;
  } catch (error) {
    const match = / exited (\d+)/.exec((error as Error).message);
    if (match) return Number(match[1]);
    throw error;
  }
}

const CHUNK = 60_000;

/** Puts text into a file in the ldap container; exec has no stdin here, so it travels in env chunks. */
export async function writeIntoLdap(ctx: StackContext, path: string, text: string): Promise<void> {
  await execIn(ctx, 'ldap', ['sh', '-c', ': > "$1"', 'put', path]);
  for (let at = 0; at < text.length; at += CHUNK) {
    await execIn(ctx, 'ldap', ['sh', '-c', 'printf %s "$CHUNK" >> "$1"', 'put', path], { env: { CHUNK: text.slice(at, at + CHUNK) } });
  }
}
