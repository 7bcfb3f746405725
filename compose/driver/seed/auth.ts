// The auth service's signing key: a fixed test key from fixtures/stack, so
// the auth-secrets volume holds the same bytes on every machine. Written by
// a helper with the owner and mode the real service gives it (1001, 600).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackContext } from '../context.ts';
import { REPO_ROOT } from '../context.ts';
import { runHelperScript } from '../runtime.ts';

export const AUTH_KEY_FIXTURE = join(REPO_ROOT, 'fixtures', 'stack', 'auth-private.pem');

export async function seedAuthSecrets(ctx: StackContext): Promise<void> {
  const key = await readFile(AUTH_KEY_FIXTURE, 'utf8');
  await runHelperScript({
    script: [
      'set -e',
      'cd /secrets',
      // Anything else in the volume is not seeded state.
      'find . -mindepth 1 -maxdepth 1 ! -name private.pem -exec rm -rf {} +',
      'printf %s "$KEY" > private.pem',
      'chown 1001:1001 . private.pem',
      'chmod 600 private.pem',
    ].join('\n'),
    env: { KEY: key },
    mounts: [{ source: `${ctx.project}_auth-secrets`, target: '/secrets' }],
    purpose: 'seed auth-secrets',
  });
}
