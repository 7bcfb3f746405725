// Resolves a profile plus the stack's .env into the concrete names, paths
// and component instances one run works with. Pure apart from reading .env
// (and files a profile points at), so the plan built from it can be printed
// (--dry-run) and unit-tested.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Component } from '../components/component.ts';
import { kindNamed } from '../components/index.ts';
import { ConfigError } from '../errors.ts';
import { readEnvFile, type EnvMap } from './env-file.ts';
import type { Profile } from './profile.ts';
import { expandHome, Values } from './values.ts';

export interface StackConfig {
  profile: Profile;
  configDir: string;
  envPath: string;
  env: EnvMap;
  project: string;
  stackVersion: string | undefined;
  backupRoot: string;
  stagingDir: string;
  backupsDir: string;
  helperImage: string;
  /** The profile's instances, resolved against this stack, in the profile's order. */
  components: Component[];
  /** Services a cold backup and an in-place restore keep running: every instance's, or HOSSADM_DATA_SERVICES. */
  dataServices: string[];
  compose: {
    files: string[];
    /** An operator's own way to start the stack, e.g. `make up DETACH=true`, run in composeDir. */
    upCommand: string | undefined;
    workdir: string | undefined;
  };
}

export interface ConfigSource {
  /** --config-dir, when given. */
  configDir?: string | undefined;
  /** The process environment (HOSS_DIR and friends). */
  environment: Record<string, string | undefined>;
  home?: string;
}

export function resolveConfigDir(profile: Profile, source: ConfigSource): string {
  const home = source.home ?? homedir();
  const chosen = source.configDir ?? source.environment[profile.configDirVariable] ?? profile.defaultConfigDir;
  return resolve(expandHome(chosen, home));
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(/[,\s]+/).filter(Boolean);
}

/** Builds the config from an already-read .env (restore uses the one inside the archive). */
export function stackConfigFromEnv(profile: Profile, configDir: string, env: EnvMap, home = homedir()): StackConfig {
  const envPath = join(configDir, '.env');
  const vars: EnvMap = { ...env, [profile.configDirVariable]: configDir, HOME: home };
  const early = new Values(vars, configDir, envPath, home);
  const backupRoot = early.path(env.BACKUP_ROOT || profile.backupRootDefault, 'BACKUP_ROOT');
  if (backupRoot === undefined) throw new ConfigError(`BACKUP_ROOT is not set and the profile's default ${profile.backupRootDefault} cannot be resolved`, { hint: `add BACKUP_ROOT=... to ${envPath}` });
  vars.BACKUP_ROOT = backupRoot;
  const values = new Values(vars, configDir, envPath, home);
  const project = env.COMPOSE_PROJECT_NAME || profile.defaultProject;
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new ConfigError(`COMPOSE_PROJECT_NAME "${project}" is not a valid compose project name`, {
      hint: 'use lowercase letters, digits, "-" and "_"',
    });
  }
  const components = profile.components.map((spec, index) => kindNamed(spec.kind, `components[${index}].kind`).create(spec.id, spec.config, values));
  const composeFiles = (env.COMPOSE_FILE ?? '').split(env.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean);
  return {
    profile,
    configDir,
    envPath,
    env,
    project,
    stackVersion: env[profile.versionVariable] || undefined,
    backupRoot,
    stagingDir: join(backupRoot, '.current'),
    backupsDir: join(backupRoot, 'backups'),
    helperImage: env.HOSSADM_HELPER_IMAGE || profile.helperImage,
    components,
    dataServices: list(env.HOSSADM_DATA_SERVICES) ?? [...new Set(components.flatMap((c) => c.keepRunning()))],
    compose: {
      files: composeFiles.map((f) => values.path(f, 'COMPOSE_FILE')!),
      upCommand: env.HOSSADM_UP_COMMAND || undefined,
      workdir: values.path(env.HOSSADM_UP_WORKDIR || '', 'HOSSADM_UP_WORKDIR'),
    },
  };
}

export async function loadStackConfig(profile: Profile, source: ConfigSource): Promise<StackConfig> {
  const configDir = resolveConfigDir(profile, source);
  const env = await readEnvFile(join(configDir, '.env'));
  return stackConfigFromEnv(profile, configDir, env, source.home ?? homedir());
}
