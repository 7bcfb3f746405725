// hossadm upgrade [--to VERSION]: options -> runUpgrade -> one result on stdout.
// Each question has its flag: --backup/--no-backup for "Take a backup first?",
// --yes for the downtime, --rollback-on-failure/--no-rollback for the rollback.
import type { Command } from 'commander';
import { runUpgrade, type FailurePolicy, type UpgradeResult } from '../core/upgrade/upgrade.ts';
import { EngineClient } from '../docker/client.ts';
import { UsageError } from '../errors.ts';
import { toolVersion } from './options.ts';
import type { CommandRunner } from './runner.ts';

interface UpgradeFlags {
  to?: string;
  backup?: boolean;
  rollbackOnFailure?: boolean;
  rollback?: boolean;
  dryRun: boolean;
  wait: string;
}

const UNHEALTHY_GRACE_SECONDS = 30;

function render(result: UpgradeResult): string {
  if (result.outcome === 'current') return result.plan.join('\n');
  if (result.outcome === 'planned') return [`Upgrade plan (nothing was done):`, ...result.plan.map((l) => `  - ${l}`)].join('\n');
  const passed = result.checks.filter((c) => c.ok).length;
  return [
    `Upgraded stack ${result.project} from ${result.from} to ${result.to} in ${result.seconds}s (services down ${result.downtimeSeconds}s)`,
    `  pre-upgrade backup: ${result.archive ?? 'none (--no-backup)'}`,
    `  checks: ${passed} of ${result.checks.length} passed`,
  ].join('\n');
}

function failurePolicy(flags: UpgradeFlags): FailurePolicy {
  if (flags.rollbackOnFailure && flags.rollback === false) throw new UsageError('--rollback-on-failure and --no-rollback contradict each other');
  return flags.rollbackOnFailure ? 'rollback' : flags.rollback === false ? 'leave' : 'ask';
}

function seconds(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--wait must be a whole number of seconds, not "${raw}"`);
  return value;
}

export function registerUpgrade(program: Command, run: CommandRunner): void {
  program
    .command('upgrade')
    .description('switch the stack to another version: backup, downtime, start, checks, and rollback when they fail')
    .option('--to <version>', "target version (default: the version file beside the stack's compose files)")
    .option('--backup', 'take a backup first without asking (the default answer)')
    .option('--no-backup', 'do not take a backup first (a failure then cannot be rolled back)')
    .option('--rollback-on-failure', 'roll back without asking when the upgrade fails')
    .option('--no-rollback', 'leave a failed upgrade as it is, without asking')
    .option('--wait <seconds>', 'how long the new version may take to answer', '600')
    .option('--dry-run', 'print what would change and do nothing', false)
    .action((flags: UpgradeFlags) =>
      run(async (session, signal) => {
        const onFailure = failurePolicy(flags);
        const result = await runUpgrade(
          {
            profile: session.profile,
            source: session.source,
            docker: new EngineClient(),
            reporter: session.reporter,
            prompter: session.prompter,
            signal,
            toolVersion,
          },
          {
            to: flags.to,
            backup: flags.backup,
            onFailure,
            dryRun: flags.dryRun,
            waitSeconds: seconds(flags.wait),
            unhealthyGraceSeconds: UNHEALTHY_GRACE_SECONDS,
          },
        );
        return { json: result, text: render(result) };
      }),
    );
}
