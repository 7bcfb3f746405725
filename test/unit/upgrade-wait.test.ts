// The wait after an upgrade must not sit out its whole timeout on a service
// whose health check keeps failing, yet must forgive one that is unhealthy
// for a moment while its database starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProfile } from '../../src/config/profile.ts';
import { stackConfigFromEnv } from '../../src/config/stack-config.ts';
import { waitForServices } from '../../src/core/stack-start.ts';
import type { DockerClient } from '../../src/docker/types.ts';
import { StackError } from '../../src/errors.ts';
import { SilentReporter } from '../../src/ui/reporter.ts';

function engineReporting(healthSequence: string[]): DockerClient {
  let polls = 0;
  return {
    listContainers: async () => [{ id: 'c1', name: 'server_core_1', image: 'i', state: 'running', project: 'server', service: 'core', labels: {} }],
    inspectContainer: async () => {
      const status = healthSequence[Math.min(polls++, healthSequence.length - 1)];
      return { RestartCount: 0, HostConfig: {}, State: { Health: { Status: status, Log: [{ Output: 'ERROR:  relation "ledger" does not exist\n' }] } } };
    },
  } as unknown as DockerClient;
}

const config = async () => stackConfigFromEnv(await loadProfile('hoss'), '/h', {
  POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'pw', POSTGRES_CORE_DB: 'hoss_core', POSTGRES_AUTH_DB: 'hoss_auth',
}, '/root');

test('a service unhealthy past the grace fails the wait, with its health check output', async () => {
  const started = Date.now();
  await assert.rejects(
    waitForServices(engineReporting(['unhealthy']), await config(), new SilentReporter(), 60_000, { unhealthyGraceMs: 0 }),
    (e: unknown) => e instanceof StackError && /service core is unhealthy/.test(e.message) && /relation "ledger" does not exist/.test(e.details ?? ''),
  );
  assert.ok(Date.now() - started < 5_000, 'failed at once, not at the timeout');
});

test('a service unhealthy for a moment, then healthy, passes the wait', async () => {
  await waitForServices(engineReporting(['unhealthy', 'healthy']), await config(), new SilentReporter(), 60_000, { unhealthyGraceMs: 10_000 });
});
