// Global options shared by every command, and how they become the objects
// the core takes (config source, reporter, prompter).
import { readFileSync } from 'node:fs';
import { loadProfile, type Profile } from '../config/profile.ts';
import type { ConfigSource } from '../config/stack-config.ts';
import { AssumeYesPrompter, InquirerPrompter, NoTerminalPrompter, type Prompter } from '../ui/prompter.ts';
import { ConsoleReporter, SilentReporter, type Reporter } from '../ui/reporter.ts';

export interface GlobalOptions {
  configDir?: string;
  profile: string;
  json: boolean;
  quiet: boolean;
  yes: boolean;
}

export interface Session {
  profile: Profile;
  source: ConfigSource;
  reporter: Reporter;
  prompter: Prompter;
  options: GlobalOptions;
}

export const toolVersion: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function openSession(options: GlobalOptions, environment: Record<string, string | undefined>, stdinIsTTY: boolean): Promise<Session> {
  const profile = await loadProfile(options.profile);
  return {
    profile,
    source: { configDir: options.configDir, environment },
    reporter: options.quiet ? new SilentReporter() : new ConsoleReporter(),
    prompter: options.yes ? new AssumeYesPrompter() : stdinIsTTY ? new InquirerPrompter() : new NoTerminalPrompter(),
    options,
  };
}
