// hossadm backup: options -> runBackup -> one result on stdout.
import type { Command } from 'commander';
import { loadStackConfig } from '../config/stack-config.ts';
import { runBackup, type BackupResult } from '../core/backup.ts';
import { runPrune } from '../core/prune.ts';
import { checkRules } from '../core/retention.ts';
import type { RunFacts } from '../core/run-report.ts';
import type { Codec } from '../archive/codec.ts';
import { EngineClient } from '../docker/client.ts';
import { FREEZE_MODES, type FreezeMode } from '../components/component.ts';
import { UsageError } from '../errors.ts';
import { backupRecipients } from './age-options.ts';
import type { CommandRunner } from './runner.ts';
import { addCopyOptions, copyAfterBackup, type CopyFlags, planCopies } from './backup-copies.ts';
import { renderCopies } from './copy-command.ts';
import { toolVersion } from './options.ts';
import { renderPrune } from './prune-command.ts';
import { addRetentionOptions, type RetentionFlags, retentionGiven, retentionRules } from './retention-options.ts';

const CODECS: readonly Codec[] = ['zstd', 'gzip', 'none'];

function render(result: BackupResult): string {
  if (result.dryRun) return ['Backup plan (nothing was done):', ...result.plan.map((l) => `  - ${l}`)].join('\n');
  const lines = [`Backup written: ${result.archive}`, `  size ${result.bytes} bytes, ${result.members?.length} members, ${result.seconds}s`];
  const c = result.consistency!;
  lines.push(
    `  consistency: ${c.mode}${c.mode === 'cold' ? `${c.freeze ? `, freeze ${c.freeze}` : ''}, writers stopped ${c.windowSeconds}s${c.windows && c.freeze !== 'stack' ? ` in ${c.windows.length} window(s)` : ''} (${c.stopped.map((s) => `${s.service} ${s.seconds}s`).join(', ') || 'none running'})` : ' (volumes copied live)'}`,
  );
  for (const m of result.members ?? []) lines.push(`  ${m.name.padEnd(36)} ${String(m.size).padStart(12)}  ${m.sha256.slice(0, 16)}`);
  return lines.join('\n');
}

/** What the webhook and metrics reports say of a backup. */
export function backupFacts(result: BackupResult): RunFacts {
  return {
    archive: result.archive,
    bytes: result.bytes,
    members: result.members?.length,
    // The longest any writing service was down (0 for a hot backup, which stops none).
    downtimeSeconds: result.consistency && Math.max(0, ...result.consistency.stopped.map((s) => s.seconds)),
  };
}

interface BackupFlags extends RetentionFlags, CopyFlags {
  hot: boolean;
  freeze?: string;
  compress: string;
  dryRun: boolean;
  without?: string[];
  with?: string[];
  thenPrune: boolean;
  encrypt: boolean;
  recipients?: string;
}

export function registerBackup(program: Command, run: CommandRunner): void {
  const command = program
    .command('backup')
    .description('back up the whole stack (every component instance of its profile) into one verified archive')
    .option('--hot', 'keep every service running; volumes are copied live (recorded in the manifest)', false)
    .option(
      '--freeze <how>',
      `cold: per-service stops each writer only while data it mounts is copied; stack stops every writer for the whole freeze phase (one point in time across services); default: the profile's, else per-service`,
    )
    .option('--compress <codec>', `archive compression: ${CODECS.join(', ')}`, 'zstd')
    .option('--dry-run', 'print the plan and change nothing', false)
    .option(
      '--without <id...>',
      'leave these component instances out of the archive (e.g. an index the application rebuilds from its database); the manifest says so',
    )
    .option('--with <id...>', 'take in instances the profile leaves out by default (its backupWithout)')
    .option('--encrypt', 'encrypt the archive with age (…tar.zst.age) to the recipients of --recipients or $HOSSADM_AGE_RECIPIENTS', false)
    .option('--recipients <file>', 'file of age public keys (age1… lines) to encrypt to; implies --encrypt')
    .option('--then-prune', 'once the backup has succeeded, prune with the --keep-* rules (a failed backup prunes nothing)', false);
  addRetentionOptions(command, ' (with --then-prune)');
  addCopyOptions(command);
  command.action((opts: BackupFlags) =>
    run(async (session, signal) => {
      if (!CODECS.includes(opts.compress as Codec)) throw new UsageError(`--compress must be one of ${CODECS.join(', ')}, not "${opts.compress}"`);
      if (opts.freeze !== undefined && !FREEZE_MODES.includes(opts.freeze as FreezeMode))
        throw new UsageError(`--freeze must be one of ${FREEZE_MODES.join(', ')}, not "${opts.freeze}"`);
      if (opts.freeze !== undefined && opts.hot) throw new UsageError('--freeze is for cold backups; --hot stops nothing');
      // The rules are checked before the backup: a mistyped rule must not cost a night's run.
      const rules = opts.thenPrune ? retentionRules(opts) : undefined;
      if (rules) checkRules(rules);
      else if (retentionGiven(opts))
        throw new UsageError('the --keep-* rules of backup take effect only with --then-prune', {
          hint: 'add --then-prune, or run hossadm prune after the backup',
        });
      const config = await loadStackConfig(session.profile, session.source);
      const copying = await planCopies(session, opts, config);
      const without = [...new Set([...session.profile.backupWithout, ...(opts.without ?? [])])].filter((id) => !(opts.with ?? []).includes(id));
      for (const id of opts.with ?? []) {
        if (!config.components.some((c) => c.id === id)) throw new UsageError(`--with ${id}: the ${config.profile.name} profile has no component "${id}"`);
      }
      const encryptTo = await backupRecipients(opts, session.source.environment, config);
      const result = await runBackup(
        { config, docker: new EngineClient(), reporter: session.reporter, prompter: session.prompter, signal, toolVersion },
        {
          mode: opts.hot ? 'hot' : 'cold',
          ...(opts.freeze ? { freeze: opts.freeze as FreezeMode } : {}),
          codec: opts.compress as Codec,
          dryRun: opts.dryRun,
          without,
          encryptTo,
        },
      );
      const copies = result.dryRun ? [] : await copyAfterBackup(session, copying, result.archive!, signal);
      const facts = backupFacts(result);
      const text = copies.length > 0 ? `${render(result)}\n${renderCopies(copies)}` : render(result);
      if (!rules || result.dryRun) return { json: { ...result, copies }, text, facts };
      const pruned = await runPrune({ config, reporter: session.reporter, prompter: session.prompter, now: () => new Date() }, { rules, dryRun: false });
      return { json: { ...result, copies, pruned }, text: `${text}\n${renderPrune(pruned)}`, facts };
    }),
  );
}
