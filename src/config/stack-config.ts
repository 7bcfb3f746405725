// Resolves a profile plus the stack's .env into the concrete names and paths
// one run works with. Pure apart from reading .env, so that the plan built
// from it can be printed (--dry-run) and unit-tested.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { readEnvFile, type EnvMap } from './env-file.ts';
import type { Profile } from './profile.ts';

export interface VolumeRef {
  /** The name compose files use, e.g. auth-secrets. */
  name: string;
  /** The engine's name, <project>_<name>. */
  dockerName: string;
}

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
  volumes: VolumeRef[];
  dataServices: string[];
  postgres: {
    service: string;
    user: string;
    password: string;
    databases: string[];
    containerBackupDir: string;
    hostBackupDir: string;
    dataDir: string | undefined;
    initScriptsDir: string | undefined;
  };
  /** The profile's settings with its ${VAR} templates resolved; the data folder may be unset. */
  opensearch: Omit<Profile['opensearch'], 'dataDir'> & { dataDir: string | undefined };
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

function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function resolveConfigDir(profile: Profile, source: ConfigSource): string {
  const home = source.home ?? homedir();
  const chosen = source.configDir ?? source.environment[profile.configDirVariable] ?? profile.defaultConfigDir;
  return resolve(expandHome(chosen, home));
}

/** Replaces ${VAR} from the .env (and the config dir variable); an unknown variable stays unresolved. */
export function interpolate(template: string, vars: EnvMap): string | undefined {
  let missing = false;
  const out = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(/[,\s]+/).filter(Boolean);
}

function absolute(path: string | undefined, base: string, home: string, what: string): string | undefined {
  if (path === undefined) return undefined;
  const expanded = expandHome(path, home);
  if (!isAbsolute(expanded)) {
    throw new ConfigError(`${what} must be an absolute path, got "${path}"`, { hint: `set it to an absolute path in ${base}/.env` });
  }
  return expanded;
}

function required(env: EnvMap, name: string, envPath: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigError(`${envPath} does not set ${name}`, { hint: `add ${name}=... to ${envPath}` });
  }
  return value;
}

/** Builds the config from an already-read .env (restore uses the one inside the archive). */
export function stackConfigFromEnv(profile: Profile, configDir: string, env: EnvMap, home = homedir()): StackConfig {
  const envPath = join(configDir, '.env');
  const vars: EnvMap = { ...env, [profile.configDirVariable]: configDir, HOME: home };
  const backupRoot = absolute(env.BACKUP_ROOT || interpolate(profile.backupRootDefault, vars), configDir, home, 'BACKUP_ROOT')!;
  vars.BACKUP_ROOT = backupRoot;
  const project = env.COMPOSE_PROJECT_NAME || profile.defaultProject;
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new ConfigError(`COMPOSE_PROJECT_NAME "${project}" is not a valid compose project name`, {
      hint: 'use lowercase letters, digits, "-" and "_"',
    });
  }
  const volumeNames = list(env.HOSSADM_VOLUMES) ?? profile.volumes;
  const databases = profile.postgres.databaseVariables.map((name) => required(env, name, envPath));
  const composeFiles = (env.COMPOSE_FILE ?? '').split(env.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean);
  const pathOf = (template: string, what: string) => absolute(interpolate(template, vars), configDir, home, what);
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
    volumes: volumeNames.map((name) => ({ name, dockerName: `${project}_${name}` })),
    dataServices: list(env.HOSSADM_DATA_SERVICES) ?? profile.dataServices,
    postgres: {
      service: profile.postgres.service,
      user: required(env, profile.postgres.userVariable, envPath),
      password: required(env, profile.postgres.passwordVariable, envPath),
      databases,
      containerBackupDir: profile.postgres.containerBackupDir,
      hostBackupDir: pathOf(profile.postgres.hostBackupDir, 'the Postgres backup folder')!,
      dataDir: pathOf(profile.postgres.dataDir, 'DB_ROOT'),
      initScriptsDir: pathOf(profile.postgres.initScriptsDir, 'DB_INIT_SCRIPTS'),
    },
    opensearch: {
      ...profile.opensearch,
      hostRepoDir: pathOf(profile.opensearch.hostRepoDir, 'the OpenSearch snapshot folder')!,
      dataDir: pathOf(profile.opensearch.dataDir, 'the OpenSearch data folder'),
    },
    compose: {
      files: composeFiles.map((f) => absolute(f, configDir, home, 'COMPOSE_FILE')!),
      upCommand: env.HOSSADM_UP_COMMAND || undefined,
      workdir: absolute(env.HOSSADM_UP_WORKDIR || undefined, configDir, home, 'HOSSADM_UP_WORKDIR'),
    },
  };
}

export async function loadStackConfig(profile: Profile, source: ConfigSource): Promise<StackConfig> {
  const configDir = resolveConfigDir(profile, source);
  const env = await readEnvFile(join(configDir, '.env'));
  return stackConfigFromEnv(profile, configDir, env, source.home ?? homedir());
}
