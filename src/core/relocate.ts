// A restore into another place than the archive came from: the throwaway
// copy `verify --restore-test` brings up beside the live stack. The archived
// .env is rewritten so that the copy has its own compose project (hence its
// own containers, network and volumes) and its own folders, and every host
// path the restore writes is checked to lie inside the throwaway folder, so
// the copy can never touch the live stack's data.
import { relative, isAbsolute } from 'node:path';
import type { EnvMap } from '../config/env-file.ts';
import type { Profile } from '../config/profile.ts';
import type { StackConfig } from '../config/stack-config.ts';
import { PreflightError } from '../errors.ts';

export interface Relocation {
  /** Compose project name of the copy. */
  project: string;
  /** Its configuration folder (the copy's HOSS_DIR). */
  configDir: string;
  /** Its BACKUP_ROOT. */
  backupRoot: string;
  /** The folder everything above lies in; nothing may be written outside it. */
  root: string;
}

// Compose files are only read, so the copy uses the live ones; the
// operator's own start command may hard-code the live project, so the copy
// is started with Compose on COMPOSE_FILE instead.
const KEPT = new Set(['COMPOSE_FILE']);
const DROPPED = ['HOSSADM_UP_COMMAND', 'HOSSADM_UP_WORKDIR'];

function movedPath(value: string, from: string, to: string): string | undefined {
  if (value === from) return to;
  return value.startsWith(`${from}/`) ? to + value.slice(from.length) : undefined;
}

/**
 * The .env values that change: project, config folder, BACKUP_ROOT and every
 * path below the old ones. `liveConfigDir` stands in for the archived config
 * folder when the .env does not name it (it then was the default one).
 */
export function relocateEnv(profile: Profile, env: EnvMap, to: Relocation, liveConfigDir: string): EnvMap {
  const fromConfig = env[profile.configDirVariable] || liveConfigDir;
  // The longer prefix first: BACKUP_ROOT usually lies inside the config folder.
  const moves = ([[env.BACKUP_ROOT, to.backupRoot], [fromConfig, to.configDir]] as const)
    .flatMap(([from, dest]) => (from && isAbsolute(from) ? [[from.replace(/\/+$/, ''), dest] as const] : []))
    .sort((a, b) => b[0].length - a[0].length);
  const changes: EnvMap = {};
  for (const [key, value] of Object.entries(env)) {
    if (KEPT.has(key)) continue;
    for (const [from, dest] of moves) {
      const moved = movedPath(value, from, dest);
      if (moved !== undefined) {
        changes[key] = moved;
        break;
      }
    }
  }
  changes.COMPOSE_PROJECT_NAME = to.project;
  changes[profile.configDirVariable] = to.configDir;
  changes.BACKUP_ROOT = to.backupRoot;
  for (const key of DROPPED) if (env[key]) changes[key] = '';
  return changes;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Refuses a relocated config that would still write somewhere outside the throwaway folder. */
export function assertRelocated(config: StackConfig, to: Relocation): void {
  const written: [string, string | undefined][] = [
    ['the config folder', config.configDir],
    ['BACKUP_ROOT', config.backupRoot],
    ...config.components.flatMap((c) => c.hostPaths().map((p): [string, string | undefined] => [p.what, p.path])),
  ];
  for (const [what, path] of written) {
    if (path !== undefined && !inside(to.root, path)) {
      throw new PreflightError(`the restore test would write ${what} at ${path}, outside its throwaway folder ${to.root}`, {
        hint: `that path in the archived .env is not below ${config.profile.configDirVariable} or BACKUP_ROOT; a restore test cannot move it safely`,
      });
    }
  }
  if (config.project !== to.project) throw new PreflightError(`the restore test's project is ${config.project}, not ${to.project}`);
}
