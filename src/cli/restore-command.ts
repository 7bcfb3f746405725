// hossadm restore [archive]: without an archive, the operator picks one of
// BACKUP_ROOT/backups, newest first.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { listArchives } from '../core/catalog.ts';
import { runRestore, type RestoreResult } from '../core/restore.ts';
import { loadStackConfig } from '../config/stack-config.ts';
import { EngineClient } from '../docker/client.ts';
import { ConfigError, UsageError } from '../errors.ts';
import type { Session } from './options.ts';
import type { AgeIdentities } from '../archive/age/keys.ts';
import { IDENTITY_OPTION_HELP, archiveIdentities } from './age-options.ts';
import type { CommandRunner } from './runner.ts';
import { downloadFolder, fetchArchive, isTargetUrl } from './target-archive.ts';

function render(result: RestoreResult): string {
  if (result.dryRun) return [`Restore plan for ${result.archive} (nothing was done):`, ...result.plan.map((l) => `  - ${l}`)].join('\n');
  return [
    `Restored ${result.archive} (${result.situation === 'fresh' ? 'fresh host' : 'in place'}) in ${result.seconds}s`,
    `  content matches the manifest${result.warnings.length ? ` (${result.warnings.length} live-copied values differ, see warnings)` : ''}`,
  ].join('\n');
}

async function chooseArchive(session: Session, identities: AgeIdentities | undefined): Promise<string> {
  const config = await loadStackConfig(session.profile, session.source).catch(() => undefined);
  if (!config) throw new UsageError('name the archive to restore (no stack configuration here to find backups in)');
  const all = await listArchives(config.backupsDir, config.profile.archivePrefix, identities);
  const entries = all.filter((e) => e.manifest);
  if (entries.length === 0) {
    const sealed = all.some((e) => e.encrypted && !identities);
    throw new ConfigError(`no backups in ${config.backupsDir}${sealed ? ' that can be read without a key (the others are encrypted)' : ''}`, {
      hint: sealed ? 'give --identity <file> (or HOSSADM_AGE_IDENTITY), or name the archive to restore' : 'name the archive to restore',
    });
  }
  return session.prompter.select(
    'Which backup should be restored?',
    entries.map((e) => ({
      name: `${e.manifest!.createdAt}  ${(e.bytes / 1e6).toFixed(1)} MB  stack ${e.manifest!.stackVersion ?? '?'}  ${e.manifest!.consistency.mode}  ${e.name}`,
      value: e.path,
    })),
  );
}

/** <target>/<name>: downloaded into BACKUP_ROOT/backups (kept there), then restored as a local archive. */
async function fetchRemote(session: Session, url: string, signal: AbortSignal): Promise<string> {
  const config = await loadStackConfig(session.profile, session.source).catch(() => undefined);
  return fetchArchive(session, url, downloadFolder(config, session.source.environment), session.profile.archivePrefix, signal);
}

export function registerRestore(program: Command, run: CommandRunner): void {
  program
    .command('restore [archive]')
    .description('restore the stack from an archive, on a fresh host or over the running stack, and prove the result')
    .option('--dry-run', 'validate the archive, print the plan and change nothing', false)
    .option('--force-version', 'restore even if stack or engine versions differ from the archive (warns)', false)
    .option('--identity <file>', IDENTITY_OPTION_HELP)
    .action((archive: string | undefined, opts: { dryRun: boolean; forceVersion: boolean; identity?: string }) =>
      run(async (session, signal) => {
        const identities = await archiveIdentities(opts.identity, session);
        const path = !archive
          ? await chooseArchive(session, identities)
          : isTargetUrl(archive)
            ? await fetchRemote(session, archive, signal)
            : resolve(archive);
        const result = await runRestore(
          { profile: session.profile, source: session.source, docker: new EngineClient(), reporter: session.reporter, prompter: session.prompter, signal },
          { archive: path, dryRun: opts.dryRun, forceVersion: opts.forceVersion, identities },
        );
        return { json: result, text: render(result) };
      }),
    );
}
