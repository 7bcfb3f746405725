// The Wire stack folder (~/wire): .env with fresh S3 keys, and the
// installation folder wire-server/ shaped like a wire-server-deploy
// checkout: values/ per chart, secrets/ with mode 0600 files, symlinks, a
// .git folder. Written once; an operator's edits stay.
import { existsSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStackEnv, randomSecret, renderStackFolderEnv, type StackFolderEnvInput } from '../env-template.ts';
import { say } from '../runtime.ts';
import { WIRE_COMPOSE_DIR, WIRE_COMPOSE_FILES, type WireContext } from './context.ts';

/** The .env in the layout every reference stack's has (../env-template.ts): the object store's keys, region and bucket. */
export function renderWireEnv(input: StackFolderEnvInput): string {
  return renderStackFolderEnv(input, {
    name: 'Wire',
    loses: 'the object store keys',
    prefix: 'WIRE',
    settings: (secret) => [
      ['S3_ACCESS_KEY', `wire${secret().slice(0, 16)}`],
      ['S3_SECRET_KEY', secret()],
      ['S3_REGION', 'us-east-1'],
      ['S3_BUCKET', 'assets'],
    ],
  });
}

/** Writes .env unless it exists; true when it was written. */
export function ensureWireEnv(dir: string): Promise<boolean> {
  return ensureStackEnv(dir, {
    defaultProject: 'wire',
    composeFiles: WIRE_COMPOSE_FILES,
    composeDir: WIRE_COMPOSE_DIR,
    render: (input) => renderWireEnv({ dir, ...input }),
    holds: 'new object store keys',
  });
}

/** The installation folder, as wire-server-deploy leaves it after `helm install`. */
export async function ensureInstallation(ctx: WireContext): Promise<void> {
  const root = ctx.installation;
  if (existsSync(root)) return;
  const file = async (path: string, text: string, mode = 0o644) => {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text, { mode });
    await chmod(join(root, path), mode);
  };
  const secret = () => randomSecret(32);
  await file('values/wire-server/values.yaml', ['brig:', '  config:', '    cassandra:', '      host: cassandra1', '    aws:', '      s3Endpoint: http://objectstore:9000', `      s3Bucket: ${ctx.bucket}`, 'galley:', '  replicaCount: 1', ''].join('\n'));
  await file('values/databases-ephemeral/values.yaml', ['cassandra-ephemeral:', '  enabled: false', ''].join('\n'));
  await file('values/wire-server/secrets.yaml', ['brig:', '  secrets:', `    zAuthPrivateKeys: ${secret()}`, `    turnSecret: ${secret()}`, ''].join('\n'), 0o600);
  await file('secrets/zauth.txt', `${secret()}\n`, 0o600);
  await file('secrets/restund.txt', `${secret()}\n`, 0o600);
  await mkdir(join(root, 'secrets', 'tls'), { recursive: true, mode: 0o700 });
  await file('secrets/tls/wire.example.com.key', `-----BEGIN PRIVATE KEY-----\n${secret()}\n-----END PRIVATE KEY-----\n`, 0o600);
  await symlink('wire-server', join(root, 'values', 'current'));
  await symlink('../secrets/zauth.txt', join(root, 'values', 'zauth.txt'));
  await symlink('/nonexistent/kubeconfig', join(root, 'kubeconfig.dec'));
  await file('.git/HEAD', 'ref: refs/heads/main\n');
  await file('.git/config', '[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = https://github.com/wireapp/wire-server-deploy.git\n');
  await file('.git/refs/heads/main', `${'0'.repeat(39)}1\n`);
  await file('README.md', '# wire-server-deploy checkout (reference stack stand-in)\n');
  say(`wrote the installation folder ${root}`);
}

/** Bind sources made before compose starts anything (the engine would make them root-owned). */
export async function prepareWireFolders(ctx: WireContext): Promise<void> {
  await ensureInstallation(ctx);
  for (const d of ['cassandra1', 'cassandra2', 'objectstore']) await mkdir(join(ctx.dir, d), { recursive: true });
  await mkdir(join(ctx.backupRoot, 'backups'), { recursive: true });
}
