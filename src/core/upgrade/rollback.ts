// Going back after a failed upgrade. A restore in place needs the running
// version to equal the archive's, so the order is: the old .env back, the
// old version started (Compose recreates what the upgrade changed), then
// the pre-upgrade backup restored over it, which also undoes whatever the
// new version migrated. Finally the same checks as after an upgrade.
import type { RunContext } from '../../components/component.ts';
import { loadStackConfig } from '../../config/stack-config.ts';
import { projectContainers } from '../../docker/compose-services.ts';
import { OperationError } from '../../errors.ts';
import { AssumeYesPrompter } from '../../ui/prompter.ts';
import { runRestore, type RestoreDeps } from '../restore.ts';
import { waitForServices, type StackStarter } from '../stack-start.ts';
import { checkStack, describeCheck, type CheckLimits, type CheckOutcome } from './upgrade-checks.ts';
import { rewriteEnvFile } from './version-switch.ts';

/** A restore's needs; the rollback asks nothing itself, and starts the stack its own way too. */
export type RollbackDeps = Omit<RestoreDeps, 'prompter' | 'starter'> & { starter: StackStarter };

export interface RollbackTarget {
  version: string;
  envPath: string;
  /** The .env exactly as it was before the upgrade; undefined when the upgrade failed before changing it. */
  envText: string | undefined;
  archive: string;
  expectedServices: readonly string[];
  limits: CheckLimits;
}

export async function rollBack(deps: RollbackDeps, target: RollbackTarget): Promise<CheckOutcome[]> {
  const { docker, reporter } = deps;
  const envText = target.envText;
  if (envText !== undefined) await reporter.step(`put .env back to ${target.version}`, () => rewriteEnvFile(target.envPath, envText));
  const config = await loadStackConfig(deps.profile, deps.source);
  await reporter.step(`start the stack at ${target.version}`, () => deps.starter(config));
  // The old version may not come up healthy on data the new one migrated;
  // the restore that follows replaces that data whatever this wait says.
  await waitForServices(docker, config, reporter, target.limits.waitMs, { unhealthyGraceMs: target.limits.unhealthyGraceMs })
    .catch((error) => reporter.warn(`before the restore: ${(error as Error).message}`));
  // The operator agreed to the rollback, which is this restore: no second question.
  await runRestore(
    { profile: deps.profile, source: deps.source, docker, reporter, prompter: new AssumeYesPrompter(), signal: deps.signal, starter: deps.starter },
    { archive: target.archive, dryRun: false, forceVersion: false },
  );
  const ctx: RunContext = { config, docker, reporter, runId: `rollback-${Date.now().toString(36)}`, signal: deps.signal, containers: await projectContainers(docker, config.project) };
  const checks = await reporter.step('checks after the rollback', () => checkStack(ctx, target.expectedServices, target.limits), summarize);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new OperationError(`the rolled-back stack fails ${failed.map((c) => c.name).join(', ')}`, { details: failed.map(describeCheck).join('\n') });
  }
  return checks;
}

export function summarize(checks: CheckOutcome[]): string {
  const failed = checks.filter((c) => !c.ok).length;
  return failed === 0 ? `${checks.length} passed` : `${failed} of ${checks.length} failed`;
}
