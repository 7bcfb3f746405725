// A stack profile describes one kind of stack (HOSS today) as data: which
// .env variables hold the database names and secrets, which named volumes
// hold state, which services are the data services. The code never names
// those things itself; adding a stack means adding a profile (and, for a new
// engine, a component).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';

export interface Profile {
  name: string;
  description: string;
  configDirVariable: string;
  defaultConfigDir: string;
  defaultProject: string;
  versionVariable: string;
  config: { entries: string[] };
  volumes: string[];
  dataServices: string[];
  postgres: {
    service: string;
    userVariable: string;
    passwordVariable: string;
    databaseVariables: string[];
    containerBackupDir: string;
    hostBackupDir: string;
    dataDir: string;
    initScriptsDir: string;
  };
  opensearch: {
    service: string;
    port: number;
    repository: string;
    containerRepoDir: string;
    containerDataDir: string;
    hostRepoDir: string;
    dataDir: string;
  };
  backupRootDefault: string;
  helperImage: string;
  /** What `upgrade` needs to know of this kind of stack; optional, every part has a default. */
  upgrade?: UpgradeProfile;
}

/** A command run in a service's container after an upgrade; it passes when it exits 0. */
export interface ServiceCheck {
  name: string;
  service: string;
  argv: string[];
}

export interface UpgradeProfile {
  /**
   * A file beside the stack's first compose file naming the version those
   * files are for (the default target of `upgrade`).
   */
  versionFile?: string;
  /** Notes shown before upgrading to a version, beside the compose files; {version} is replaced. */
  notesFile?: string;
  /** Services that must report "healthy" (not merely run) after an upgrade. */
  healthyServices?: string[];
  checks?: ServiceCheck[];
}

export const profilesDir = fileURLToPath(new URL('../../templates/profiles/', import.meta.url));

function requireShape(value: unknown, path: string, kind: 'string' | 'number' | 'string[]' | 'object'): void {
  const ok =
    kind === 'string[]'
      ? Array.isArray(value) && value.every((v) => typeof v === 'string')
      : kind === 'object'
        ? typeof value === 'object' && value !== null && !Array.isArray(value)
        : typeof value === kind;
  if (!ok) throw new ConfigError(`stack profile: "${path}" must be a ${kind}`);
}

/** Checks the fields the code relies on, so a bad profile fails at load, not halfway through a run. */
export function validateProfile(raw: unknown): Profile {
  requireShape(raw, '(root)', 'object');
  const p = raw as Record<string, Record<string, unknown>>;
  for (const key of ['name', 'configDirVariable', 'defaultConfigDir', 'defaultProject', 'versionVariable', 'backupRootDefault', 'helperImage']) {
    requireShape(p[key], key, 'string');
  }
  requireShape(p.config, 'config', 'object');
  requireShape(p.config!.entries, 'config.entries', 'string[]');
  requireShape(p.volumes, 'volumes', 'string[]');
  requireShape(p.dataServices, 'dataServices', 'string[]');
  requireShape(p.postgres, 'postgres', 'object');
  for (const key of ['service', 'userVariable', 'passwordVariable', 'containerBackupDir', 'hostBackupDir', 'dataDir', 'initScriptsDir']) {
    requireShape(p.postgres![key], `postgres.${key}`, 'string');
  }
  requireShape(p.postgres!.databaseVariables, 'postgres.databaseVariables', 'string[]');
  requireShape(p.opensearch, 'opensearch', 'object');
  for (const key of ['service', 'repository', 'containerRepoDir', 'containerDataDir', 'hostRepoDir', 'dataDir']) {
    requireShape(p.opensearch![key], `opensearch.${key}`, 'string');
  }
  requireShape(p.opensearch!.port, 'opensearch.port', 'number');
  if (p.upgrade !== undefined) validateUpgrade(p.upgrade);
  return raw as Profile;
}

function validateUpgrade(upgrade: unknown): void {
  requireShape(upgrade, 'upgrade', 'object');
  const u = upgrade as Record<string, unknown>;
  for (const key of ['versionFile', 'notesFile']) if (u[key] !== undefined) requireShape(u[key], `upgrade.${key}`, 'string');
  if (u.healthyServices !== undefined) requireShape(u.healthyServices, 'upgrade.healthyServices', 'string[]');
  if (u.checks === undefined) return;
  if (!Array.isArray(u.checks)) throw new ConfigError('stack profile: "upgrade.checks" must be a list');
  u.checks.forEach((check: unknown, index) => {
    requireShape(check, `upgrade.checks[${index}]`, 'object');
    const c = check as Record<string, unknown>;
    requireShape(c.name, `upgrade.checks[${index}].name`, 'string');
    requireShape(c.service, `upgrade.checks[${index}].service`, 'string');
    requireShape(c.argv, `upgrade.checks[${index}].argv`, 'string[]');
  });
}

export async function loadProfile(name: string, dir = profilesDir): Promise<Profile> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new ConfigError(`stack profile name "${name}" is not a plain name`);
  let text: string;
  try {
    text = await readFile(`${dir}/${name}.json`, 'utf8');
  } catch (error) {
    throw new ConfigError(`unknown stack profile "${name}"`, { hint: `choose one of the files in ${dir}`, cause: error });
  }
  try {
    return validateProfile(JSON.parse(text));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`stack profile ${name}.json is not valid JSON`, { cause: error });
  }
}
