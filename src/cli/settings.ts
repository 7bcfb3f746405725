// Where a run's settings come from, the same for every one of them: the
// flag, else the process environment, else the stack's .env. A path read
// from .env is relative to the config folder (the file's own folder), since
// cron starts hossadm in a folder nobody chose; `~` means the home folder.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { EnvMap } from '../config/env-file.ts';
import { expandHome } from '../config/values.ts';

/** The part of a stack's configuration settings are read from; undefined on a fresh host whose .env is not there yet. */
export interface SettingsFile {
  env: EnvMap;
  configDir: string;
  envPath?: string;
}

export interface Setting {
  value: string;
  /** Where it came from, for messages: "--notify", "HOSSADM_NOTIFY_URL in the environment", "… in /srv/hoss/.env". */
  from: string;
  /** The folder a relative path in it is relative to. */
  base: string;
}

export function setting(
  flag: string | undefined,
  flagName: string,
  variable: string,
  environment: Record<string, string | undefined>,
  stack: SettingsFile | undefined,
): Setting | undefined {
  if (flag !== undefined) return { value: flag, from: flagName, base: process.cwd() };
  const fromProcess = environment[variable];
  if (fromProcess) return { value: fromProcess, from: `${variable} in the environment`, base: process.cwd() };
  const fromStack = stack?.env[variable];
  if (fromStack) return { value: fromStack, from: `${variable} in ${stack.envPath ?? `${stack.configDir}/.env`}`, base: stack.configDir };
  return undefined;
}

/** A setting that names a file, as an absolute path. */
export function settingPath(found: Setting): string {
  return resolve(found.base, expandHome(found.value, homedir()));
}
