// hossadm verify <archive> [--restore-test]: options -> runVerify. The
// archive may be named by path, by its name in BACKUP_ROOT/backups, or as
// "latest" (the newest there), which is what a cron line wants.
import type { Command } from 'commander';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listArchives } from '../core/catalog.ts';
import { formatAge } from '../core/human-units.ts';
import { runVerify, type VerifyResult } from '../core/verify.ts';
import { loadStackConfig, type StackConfig } from '../config/stack-config.ts';
import { EngineClient } from '../docker/client.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { IDENTITY_OPTION_HELP, archiveIdentities } from './age-options.ts';
import type { CommandRunner } from './runner.ts';
import { fetchArchive, isTargetUrl } from './target-archive.ts';

/** An archive named by path, by its name in BACKUP_ROOT/backups, or as "latest". */
export async function findArchive(given: string, config: StackConfig | undefined): Promise<string> {
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  if (await exists(resolve(given))) return resolve(given);
  if (config && given === 'latest') {
    const newest = (await listArchives(config.backupsDir, config.profile.archivePrefix))[0];
    if (!newest) throw new ConfigError(`no backups in ${config.backupsDir}`, { hint: 'run hossadm backup first' });
    return newest.path;
  }
  if (config && !given.includes('/') && (await exists(join(config.backupsDir, given)))) return join(config.backupsDir, given);
  throw new UsageError(`no archive ${given}`, { hint: 'give its path, its name in BACKUP_ROOT/backups, or "latest"' });
}

function render(r: VerifyResult): string {
  const lines = [
    `Archive ${r.archive} is intact: ${r.members} members, checksums match, manifest understood, every member has its component`,
    `  taken ${r.createdAt}, stack ${r.stackVersion ?? '?'}, ${r.consistency}`,
  ];
  if (r.restoreTest) {
    const warnings = r.restoreTest.warnings.length ? ` (${r.restoreTest.warnings.length} live-copied values differ, as a hot backup may)` : '';
    lines.push(
      `  restore test: restored as project ${r.restoreTest.project} in ${formatAge(r.restoreTest.seconds)}, content matches the manifest${warnings}; copy removed`,
    );
  }
  lines.push(r.recorded ? `  recorded (${r.mode}) for list, prune and check` : '  not recorded: the archive is not in BACKUP_ROOT/backups');
  return lines.join('\n');
}

export function registerVerify(program: Command, run: CommandRunner): void {
  program
    .command('verify <archive>')
    .description('check an archive without touching the stack (checksums, manifest, components); --restore-test also restores it into a throwaway copy')
    .option('--restore-test', 'restore into a throwaway copy (own project, network, volumes, folders), prove it, remove it', false)
    .option('--work-dir <dir>', 'where the restore test puts its copy (default: BACKUP_ROOT/.restore-test)')
    .option('--identity <file>', IDENTITY_OPTION_HELP)
    .action((archive: string, opts: { restoreTest: boolean; workDir?: string; identity?: string }) =>
      run(async (session, signal) => {
        // Plain verification needs no stack: an archive copied to another machine can be checked too.
        const config = await loadStackConfig(session.profile, session.source).catch(() => undefined);
        // <target>/<name>: downloaded into a folder of its own, verified there, removed afterwards.
        const scratch = isTargetUrl(archive) ? await mkdtemp(join(config?.backupRoot ?? tmpdir(), '.offsite-verify-')) : undefined;
        try {
          const path = scratch ? await fetchArchive(session, archive, scratch, session.profile.archivePrefix, signal) : await findArchive(archive, config);
          const result = await runVerify(
            {
              profile: session.profile,
              environment: session.source.environment,
              docker: new EngineClient(),
              reporter: session.reporter,
              prompter: session.prompter,
              signal,
              backupsDir: config?.backupsDir,
              helperImage: config?.helperImage ?? session.profile.helperImage,
            },
            {
              archive: path,
              restoreTest: opts.restoreTest,
              workRoot: opts.workDir ? resolve(opts.workDir) : config && join(config.backupRoot, '.restore-test'),
              identities: await archiveIdentities(opts.identity, session),
            },
          );
          return { json: result, text: render(result) };
        } finally {
          if (scratch) await rm(scratch, { recursive: true, force: true });
        }
      }),
    );
}
