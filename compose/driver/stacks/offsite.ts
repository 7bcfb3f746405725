// The offsite test servers (compose/offsite): places hossadm copies
// archives to. `up` prints the settings hossadm and the tests need as
// KEY=value lines on stdout; there is nothing to seed or fingerprint.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { UsageError } from '../../../src/errors.ts';
import { docker, say } from '../runtime.ts';
import { ensureEngine, ensureImages } from '../scripts.ts';
import { upTimeoutSeconds } from '../stack-verbs.ts';
import { checkOffsiteDir, ensureOffsiteEnv, loadOffsiteContext, offsiteComposeProject, offsiteDirFromEnv } from '../offsite/context.ts';
import type { OffsitePart } from '../offsite/part.ts';
import { s3Part } from '../offsite/s3.ts';
import { sftpPart } from '../offsite/sftp.ts';
import type { StackModule } from './types.ts';

/** Every kind of server the stack runs; a new kind is one more part. */
const PARTS: readonly OffsitePart[] = [s3Part, sftpPart];

const required = PARTS.flatMap((part) => part.required);

async function up(dir: string): Promise<void> {
  const started = Date.now();
  await checkOffsiteDir(dir);
  await ensureEngine();
  await docker.ping();
  await ensureOffsiteEnv(dir, PARTS.map((part) => part.env));
  const ctx = await loadOffsiteContext(dir, required);
  await ensureImages(['versitygw', 'openssh']);
  for (const part of PARTS) await part.prepare(ctx);
  const services = PARTS.flatMap((part) => part.services);
  say(`starting project ${ctx.project} (${services.join(' ')}) from ${dir}`);
  await runCompose(offsiteComposeProject(ctx), ['up', '-d', '--remove-orphans', ...services]);
  for (const part of PARTS) await part.ready(ctx, upTimeoutSeconds());
  const lines = PARTS.flatMap((part) => part.settings(ctx)).map(([key, value]) => `${key}=${value}\n`);
  await new Promise<void>((resolve, reject) => process.stdout.write(lines.join(''), (error) => (error ? reject(error) : resolve())));
  say(`stack ${ctx.project} is up (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

async function down(dir: string): Promise<void> {
  const ctx = await loadOffsiteContext(dir, required);
  await docker.ping();
  await runCompose(offsiteComposeProject(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}

const nothing = (verb: string) => async (): Promise<never> => {
  throw new UsageError(`the offsite stack has no ${verb}: it holds only what hossadm copies to it`, { hint: 'use up or down' });
};

export const offsiteStack: StackModule = {
  name: 'offsite',
  dirFromEnv: offsiteDirFromEnv,
  up,
  seed: nothing('seed'),
  fingerprint: nothing('fingerprint'),
  reset: nothing('reset'),
  down,
};
