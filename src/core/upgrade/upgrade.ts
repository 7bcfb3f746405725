// The upgrade engine: plan, ask, back up, stop, switch, start, check, and
// when anything fails, offer to roll back to the old version and the
// pre-upgrade backup. Every question is asked before anything changes, so
// a "no" or a Ctrl-C at any of them leaves the stack exactly as it was;
// the only later question is the rollback, which exists only after a failure.
import type { RunContext } from '../../components/component.ts';
import { loadStackConfig, type StackConfig } from '../../config/stack-config.ts';
import { renderServices } from '../../docker/compose-config.ts';
import { projectContainers } from '../../docker/compose-services.ts';
import { asHossError, DeclinedError, InterruptedError, OperationError, StackError } from '../../errors.ts';
import { runBackup } from '../backup.ts';
import type { RestoreDeps } from '../restore.ts';
import { startStack, type StackStarter } from '../stack-start.ts';
import { rollBack, summarize } from './rollback.ts';
import { stopStack } from './stack-stop.ts';
import { checkStack, describeCheck, type CheckLimits, type CheckOutcome } from './upgrade-checks.ts';
import { describeUpgrade, planUpgrade, runningVersion, targetVersion, type ServiceRenderer, type UpgradePlan } from './upgrade-plan.ts';
import { switchEnvFile } from './version-switch.ts';

export type FailurePolicy = 'ask' | 'rollback' | 'leave';

export interface UpgradeOptions {
  /** Target version; default: the version file beside the compose files. */
  to: string | undefined;
  /** Take a backup first; undefined: ask (default yes). */
  backup: boolean | undefined;
  onFailure: FailurePolicy;
  dryRun: boolean;
  waitSeconds: number;
  /** How long a service may stay unhealthy after the start before the upgrade counts as failed. */
  unhealthyGraceSeconds: number;
}

/** What a restore needs, plus what the backup and the plan need. */
export interface UpgradeDeps extends RestoreDeps {
  toolVersion: string;
  render?: ServiceRenderer;
}

export interface UpgradeResult {
  outcome: 'planned' | 'current' | 'upgraded';
  project: string;
  from: string;
  to: string;
  plan: string[];
  archive: string | undefined;
  checks: CheckOutcome[];
  /** From the stop of the first service to the end of the checks. */
  downtimeSeconds: number | undefined;
  seconds: number;
}

function composeRenderer(config: StackConfig, environment: Record<string, string | undefined>): ServiceRenderer {
  return (overrides) => renderServices({
    project: config.project,
    files: config.compose.files,
    envFile: config.envPath,
    env: { ...environment, [config.profile.configDirVariable]: config.configDir, ...overrides },
  });
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** Services that must run afterwards: those running now, less what the new version drops, plus what it adds. */
function expectedServices(running: readonly string[], plan: UpgradePlan): string[] {
  const removed = new Set(plan.services?.filter((s) => s.kind === 'removed').map((s) => s.service));
  const added = plan.services?.filter((s) => s.kind === 'added').map((s) => s.service) ?? [];
  return [...new Set([...running.filter((s) => !removed.has(s)), ...added])].sort();
}

export async function runUpgrade(deps: UpgradeDeps, options: UpgradeOptions): Promise<UpgradeResult> {
  const { docker, reporter, prompter, signal } = deps;
  const startedAt = Date.now();
  const config = await loadStackConfig(deps.profile, deps.source);
  const from = runningVersion(config);
  const to = await targetVersion(config, options.to);
  const result = (outcome: UpgradeResult['outcome'], plan: string[], extra: Partial<UpgradeResult> = {}): UpgradeResult => ({
    outcome, project: config.project, from, to, plan, archive: undefined, checks: [], downtimeSeconds: undefined, seconds: seconds(startedAt), ...extra,
  });
  if (from === to) return result('current', [`stack ${config.project} already runs ${to}; nothing to do`]);

  const plan = await reporter.step('work out what the upgrade changes', () =>
    planUpgrade(config, to, deps.render ?? composeRenderer(config, deps.source.environment), deps.source.environment));
  const lines = describeUpgrade(plan);
  if (options.dryRun) return result('planned', lines);

  await docker.ping();
  const running = (await projectContainers(docker, config.project)).filter((c) => c.state === 'running');
  if (running.length === 0) {
    throw new StackError(`no container of compose project "${config.project}" runs`, { hint: 'bring the stack up at its current version first' });
  }
  for (const line of lines) reporter.info(`  ${line}`);

  const backup = options.backup ?? (await prompter.confirm('Take a backup first?', true));
  if (!backup) reporter.warn('no backup first: a failed upgrade cannot be rolled back by restoring one');
  const go = await prompter.confirm(`Stop every service of "${config.project}" and upgrade it from ${from} to ${to}? The stack is down until ${to} answers.`, false);
  if (!go) throw new DeclinedError('upgrade declined; nothing was changed');

  let archive: string | undefined;
  if (backup) {
    const taken = await runBackup(
      { config, docker, reporter, prompter, signal, toolVersion: deps.toolVersion },
      { mode: 'cold', codec: 'zstd', dryRun: false },
    );
    archive = taken.archive;
    reporter.info(`pre-upgrade backup: ${archive}`);
  }
  if (signal.aborted) throw new InterruptedError(`upgrade interrupted before the stack was stopped; nothing was changed${archive ? ` (the backup ${archive} was kept)` : ''}`);

  const starter = deps.starter ?? startStack;
  const limits: CheckLimits = { waitMs: options.waitSeconds * 1000, unhealthyGraceMs: options.unhealthyGraceSeconds * 1000 };
  const expected = expectedServices(running.map((c) => c.service), plan);
  const manualRollback = archive
    ? `set ${config.profile.versionVariable}=${from} in ${config.envPath}, start the stack, then hossadm restore ${archive}`
    : `set ${config.profile.versionVariable}=${from} in ${config.envPath} and start the stack; restore a backup taken at ${from} if ${to} changed the data`;
  const downSince = Date.now();
  let envBefore: string | undefined;
  let checks: CheckOutcome[] = [];
  let failure: { reason: string; details: string | undefined } | undefined;
  try {
    await reporter.step(`stop the stack (${running.map((c) => c.service).join(', ')})`, () => stopStack(docker, config));
    const changes = Object.fromEntries(plan.envChanges.map((c) => [c.key, c.to]));
    envBefore = (await reporter.step(`switch ${config.envPath} to ${to}`, () => switchEnvFile(config.envPath, changes))).before;
    const upgraded = await loadStackConfig(deps.profile, deps.source);
    await reporter.step(`start the stack at ${to}`, () => starter(upgraded));
    const ctx: RunContext = { config: upgraded, docker, reporter, runId: `upgrade-${Date.now().toString(36)}`, signal, containers: [] };
    checks = await reporter.step('post-upgrade checks', () => checkStack(ctx, expected, limits), summarize);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      failure = { reason: `${failed[0]!.detail}${failed.length > 1 ? ` (${failed.length} of ${checks.length} checks failed)` : ''}`, details: failed.map(describeCheck).join('\n') };
    }
  } catch (error) {
    const e = asHossError(error);
    failure = { reason: e.message, details: e.details };
  }
  for (const c of checks) reporter.info(`  ${c.ok ? 'ok  ' : 'FAIL'} ${describeCheck(c)}`);
  // Interrupted on the way: the person wants control back, not a rollback question.
  if (signal.aborted) {
    const where = envBefore === undefined ? `while stopping the stack; .env still names ${from}` : `after switching to ${to}; .env names ${to}`;
    throw new InterruptedError(`upgrade interrupted ${where}`, { hint: manualRollback, details: failure?.details });
  }
  if (failure === undefined) return result('upgraded', lines, { archive, checks, downtimeSeconds: seconds(downSince) });

  reporter.warn(`upgrade to ${to} failed: ${failure.reason}`);
  return recover(deps, options.onFailure, { from, to, archive, envPath: config.envPath, envBefore, expected, limits, starter, manualRollback, failure });
}

interface FailedUpgrade {
  from: string;
  to: string;
  archive: string | undefined;
  envPath: string;
  envBefore: string | undefined;
  expected: string[];
  limits: CheckLimits;
  starter: StackStarter;
  manualRollback: string;
  failure: { reason: string; details: string | undefined };
}

/** After a failure: roll back (asked, or by flag) or leave it, and always end with the error that says which. */
async function recover(deps: UpgradeDeps, policy: FailurePolicy, failed: FailedUpgrade): Promise<never> {
  const { from, to, archive, failure, manualRollback } = failed;
  const failedTo = `upgrade to ${to} failed: ${failure.reason}`;
  if (!archive) throw new OperationError(`${failedTo}; not rolled back: no backup was taken first`, { hint: manualRollback, details: failure.details });
  let agreed: boolean;
  try {
    agreed = policy === 'rollback' ? true : policy === 'leave' ? false : await deps.prompter.confirm(`Roll back to ${from} by restoring ${archive}?`, true);
  } catch (error) {
    if (error instanceof InterruptedError) throw new InterruptedError(`interrupted at the rollback question: not rolled back; the failed upgrade to ${to} is left as it is`, { hint: manualRollback });
    if (!(error instanceof DeclinedError)) throw error;
    agreed = false;
  }
  if (!agreed) throw new OperationError(`${failedTo}; not rolled back: the stack is left at ${to} as the upgrade left it`, { hint: manualRollback, details: failure.details });
  try {
    await rollBack(
      { profile: deps.profile, source: deps.source, docker: deps.docker, reporter: deps.reporter, signal: deps.signal, starter: failed.starter },
      { version: from, envPath: failed.envPath, envText: failed.envBefore, archive, expectedServices: failed.expected, limits: failed.limits },
    );
  } catch (error) {
    const e = asHossError(error);
    if (e instanceof InterruptedError) throw e;
    throw new OperationError(`${failedTo}; the rollback failed too: ${e.message}`, { hint: `once ${from} runs: hossadm restore ${archive}`, details: [failure.details, e.details].filter(Boolean).join('\n') });
  }
  throw new OperationError(`${failedTo}; rolled back: the stack runs ${from} again with the data of ${archive}`, { details: failure.details });
}
