// The .env a first `up` writes for the CyberSift stack: the Redis password
// (REDIS_PASSWORD, random), what Compose needs (project, absolute compose
// file paths), BACKUP_ROOT and the stack's version.
import { join } from 'node:path';
import { randomSecret } from '../env-template.ts';

export interface CyberSiftEnvInput {
  dir: string;
  project: string;
  composeFiles: readonly string[];
  version: string;
  backupRoot?: string;
  uid: number;
  gid: number;
  secret?: () => string;
}

export function renderCyberSiftEnv(input: CyberSiftEnvInput): string {
  const secret = input.secret ?? (() => randomSecret());
  const lines: Array<[string, string] | string> = [
    '# Settings and secrets of this CyberSift stack, written by compose/stack on first up.',
    '# Losing this file loses the Redis password: back it up.',
    ['CYBERSIFT_VERSION', input.version],
    ['CYBERSIFT_DIR', input.dir],
    ['COMPOSE_PROJECT_NAME', input.project],
    ['COMPOSE_FILE', input.composeFiles.join(':')],
    ['BACKUP_ROOT', input.backupRoot ?? join(input.dir, 'backup')],
    ['REDIS_PASSWORD', secret()],
    ['HOSSADM_HELPER_IMAGE', 'hoss-local/busybox:local'],
    ['UID', String(input.uid)],
    ['GID', String(input.gid)],
  ];
  return `${lines.map((line) => (typeof line === 'string' ? line : `${line[0]}=${line[1]}`)).join('\n')}\n`;
}
