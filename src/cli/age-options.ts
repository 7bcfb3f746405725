// Where the age key files come from on the command line: a flag naming the
// file, else the setting in the process environment, else in the stack's
// .env (relative paths there are relative to the config folder). Flags take
// file paths only, so no key is ever in argv.
import { IDENTITY_SETTING, RECIPIENTS_SETTING, loadIdentities, loadRecipients, type AgeIdentities, type AgeRecipients } from '../archive/age/keys.ts';
import { loadStackConfig } from '../config/stack-config.ts';
import { UsageError } from '../errors.ts';
import type { Session } from './options.ts';
import { type SettingsFile, setting, settingPath } from './settings.ts';

function keyFile(
  flag: string | undefined,
  variable: string,
  environment: Record<string, string | undefined>,
  stack: SettingsFile | undefined,
): string | undefined {
  const found = setting(flag, '', variable, environment, stack);
  return found && settingPath(found);
}

/** The recipients a backup encrypts to, or undefined for a plain archive. The setting alone turns encryption on. */
export async function backupRecipients(
  opts: { encrypt: boolean; recipients?: string | undefined },
  environment: Record<string, string | undefined>,
  stack: SettingsFile,
): Promise<AgeRecipients | undefined> {
  const file = keyFile(opts.recipients, RECIPIENTS_SETTING, environment, stack);
  if (!file) {
    if (opts.encrypt) {
      throw new UsageError('--encrypt needs the recipients (age public keys) to encrypt to', {
        hint: `give --recipients <file>, or set ${RECIPIENTS_SETTING}=<file> in the environment or in ${stack.configDir}/.env`,
      });
    }
    return undefined;
  }
  return loadRecipients(file);
}

/** The identities that open encrypted archives, when a flag or setting names a file. A fresh host may have no .env yet. */
export async function archiveIdentities(flag: string | undefined, session: Session): Promise<AgeIdentities | undefined> {
  const stack =
    flag || session.source.environment[IDENTITY_SETTING] ? undefined : await loadStackConfig(session.profile, session.source).catch(() => undefined);
  const file = keyFile(flag, IDENTITY_SETTING, session.source.environment, stack);
  return file ? loadIdentities(file) : undefined;
}

export const IDENTITY_OPTION_HELP = `age identity file (AGE-SECRET-KEY-1… lines, mode 0600) that opens encrypted archives (default: $${IDENTITY_SETTING})`;
