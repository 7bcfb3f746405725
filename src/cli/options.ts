// Global options shared by every command, and how they become the objects
// the core takes (profile, config source, reporter, prompter).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProfile, type Profile, validateProfile } from '../config/profile.ts';
import type { ConfigSource } from '../config/stack-config.ts';
import { expandHome } from '../config/values.ts';
import { PROFILE_FILE } from '../core/init/init.ts';
import { ConfigError } from '../errors.ts';
import { AssumeYesPrompter, InquirerPrompter, NoTerminalPrompter, type Prompter } from '../ui/prompter.ts';
import { ConsoleReporter, JsonLinesReporter, type Reporter, SilentReporter } from '../ui/reporter.ts';

export interface GlobalOptions {
  configDir?: string;
  profile: string;
  json: boolean;
  quiet: boolean;
  yes: boolean;
}

/** Where the run's profile came from: a name under templates/profiles, or a config folder's own file. */
export type ProfileOrigin = { kind: 'named'; name: string } | { kind: 'file'; path: string };

export interface Session {
  profile: Profile;
  profileOrigin: ProfileOrigin;
  source: ConfigSource;
  reporter: Reporter;
  prompter: Prompter;
  options: GlobalOptions;
}

export const toolVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Reads and checks a profile file (hossadm-profile.json); ConfigError naming the file otherwise. */
export async function loadProfileFile(path: string): Promise<Profile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read the stack profile ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
  try {
    return validateProfile(raw);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${path}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), cause: error });
    throw error;
  }
}

/**
 * A profile named on the command line (or by HOSSADM_PROFILE) is used as
 * named; otherwise a hossadm-profile.json in --config-dir wins over the
 * default profile, so `hossadm --config-dir DIR …` works after `hossadm init`.
 */
export async function chooseProfile(options: GlobalOptions, named: boolean, home = homedir()): Promise<{ profile: Profile; origin: ProfileOrigin }> {
  if (!named && options.configDir) {
    const path = join(resolve(expandHome(options.configDir, home)), PROFILE_FILE);
    const exists = await readFile(path).then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
    );
    if (exists) return { profile: await loadProfileFile(path), origin: { kind: 'file', path } };
  }
  return { profile: await loadProfile(options.profile), origin: { kind: 'named', name: options.profile } };
}

export function reporterFor(options: Pick<GlobalOptions, 'json' | 'quiet'>): Reporter {
  if (options.quiet) return new SilentReporter();
  return options.json ? new JsonLinesReporter() : new ConsoleReporter();
}

export async function openSession(
  options: GlobalOptions,
  environment: Record<string, string | undefined>,
  stdinIsTTY: boolean,
  profileNamed = true,
): Promise<Session> {
  const { profile, origin } = await chooseProfile(options, profileNamed);
  return {
    profile,
    profileOrigin: origin,
    source: { configDir: options.configDir, environment },
    reporter: reporterFor(options),
    prompter: options.yes ? new AssumeYesPrompter() : stdinIsTTY ? new InquirerPrompter() : new NoTerminalPrompter(),
    options,
  };
}
