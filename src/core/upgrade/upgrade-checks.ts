// After an upgrade (and after a rollback) the stack must prove it works:
// every service that should run runs and is healthy, the services the
// profile names report "healthy", every component instance's probes pass
// (its servers answer), and the profile's own checks pass. Each check is
// run even when an earlier one failed, so the operator sees the whole story.
import type { RunContext } from '../../components/component.ts';
import { pickServiceContainer, projectContainers } from '../../docker/compose-services.ts';
import { asHossError, OperationError } from '../../errors.ts';
import { waitForServices } from '../stack-start.ts';

export interface CheckOutcome {
  name: string;
  ok: boolean;
  /** One line: what passed, or why it failed. */
  detail: string;
  /** The failing command's or health check's own first line of output, when there is one. */
  output?: string;
}

export interface CheckLimits {
  waitMs: number;
  unhealthyGraceMs: number;
}

/** Runs one check; with `retryUntil`, a failing check is tried again every 2 s until that moment. */
async function outcome(name: string, check: () => Promise<string | void>, retryUntil = 0, signal?: AbortSignal): Promise<CheckOutcome> {
  for (;;) {
    try {
      return { name, ok: true, detail: (await check()) ?? 'ok' };
    } catch (error) {
      if (Date.now() < retryUntil && !signal?.aborted) {
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      const e = asHossError(error);
      const output = e.details?.trim().split('\n')[0];
      return { name, ok: false, detail: e.message, ...(output ? { output } : {}) };
    }
  }
}

export async function checkStack(ctx: RunContext, expectedServices: readonly string[], limits: CheckLimits): Promise<CheckOutcome[]> {
  const { config, docker } = ctx;
  const results: CheckOutcome[] = [];
  const started = await outcome('every service runs and is healthy', () =>
    waitForServices(docker, config, ctx.reporter, limits.waitMs, { unhealthyGraceMs: limits.unhealthyGraceMs }));
  results.push(started);
  const containers = await projectContainers(docker, config.project);
  results.push(await outcome(`services present (${expectedServices.join(', ')})`, async () => {
    const missing = expectedServices.filter((s) => !containers.some((c) => c.service === s && c.state === 'running'));
    if (missing.length > 0) throw new Error(`not running: ${missing.join(', ')}`);
  }));
  for (const service of config.profile.upgrade?.healthyServices ?? []) {
    results.push(await outcome(`${service} reports healthy`, async () => {
      const info = await docker.inspectContainer(pickServiceContainer(containers, config.project, service).id);
      const status = info.State.Health?.Status ?? 'no health check';
      if (status !== 'healthy') throw new Error(`${service} is ${status}`);
    }));
  }
  // A running container is not yet an answering server (OpenSearch takes
  // seconds to listen, RabbitMQ longer): once every container runs, each
  // service gets the same time to answer as the start had. When the start
  // already failed, one try each says enough.
  const answerBy = started.ok ? Date.now() + limits.waitMs : 0;
  for (const probe of config.components.flatMap((c) => c.probes())) {
    results.push(await outcome(probe.name, () => probe.run(ctx), answerBy, ctx.signal));
  }
  for (const check of config.profile.upgrade?.checks ?? []) {
    results.push(await outcome(check.name, async () => {
      const container = pickServiceContainer(containers, config.project, check.service);
      const run = await docker.exec(container.id, check.argv);
      if (run.exitCode !== 0) throw new OperationError(`${check.argv.join(' ')} exited ${run.exitCode}`, { details: (run.stderr || run.stdout).trim() });
    }, answerBy, ctx.signal));
  }
  return results;
}

export function describeCheck(check: CheckOutcome): string {
  return `${check.name}: ${check.detail}${check.output ? ` (${check.output})` : ''}`;
}
