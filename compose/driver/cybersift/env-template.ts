// The .env a first `up` writes for the CyberSift stack: the Redis password
// (REDIS_PASSWORD, random) and BACKUP_ROOT, in the layout every reference
// stack's .env has (../env-template.ts).
import { renderStackFolderEnv, type StackFolderEnvInput } from '../env-template.ts';

export type CyberSiftEnvInput = StackFolderEnvInput;

export function renderCyberSiftEnv(input: CyberSiftEnvInput): string {
  return renderStackFolderEnv(input, {
    name: 'CyberSift',
    loses: 'the Redis password',
    prefix: 'CYBERSIFT',
    settings: (secret) => [['REDIS_PASSWORD', secret()]],
  });
}
