// The .env a first `up` writes for the CyberSift stack: the Redis password
// (REDIS_PASSWORD, random) and BACKUP_ROOT, in the layout every reference
// stack's .env has (../env-template.ts).
import { join } from 'node:path';
import { renderStackEnv, type StackEnvInput } from '../env-template.ts';

export interface CyberSiftEnvInput extends StackEnvInput {
  dir: string;
}

export function renderCyberSiftEnv(input: CyberSiftEnvInput): string {
  return renderStackEnv(input, {
    header: [
      '# Settings and secrets of this CyberSift stack, written by compose/stack on first up.',
      '# Losing this file loses the Redis password: back it up.',
    ],
    versionKey: 'CYBERSIFT_VERSION',
    dirKey: 'CYBERSIFT_DIR',
    dir: input.dir,
    settings: (secret) => [
      ['BACKUP_ROOT', input.backupRoot ?? join(input.dir, 'backup')],
      ['REDIS_PASSWORD', secret()],
    ],
  });
}
