// The pacer collects garbage once per 64 MiB passed on, and only once the
// CLI has switched it on: a library user keeps V8's own timing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const script = (enable: boolean) => `
  import { enableMemoryPacing, paceMemory } from './src/archive/memory-pacer.ts';
  import { PerformanceObserver } from 'node:perf_hooks';
  let collections = 0;
  new PerformanceObserver((list) => { collections += list.getEntries().filter((e) => e.detail?.kind === 4 /* major */).length; }).observe({ entryTypes: ['gc'] });
  ${enable ? 'enableMemoryPacing();' : ''}
  for (let i = 0; i < 64 * 5; i++) paceMemory(1024 * 1024);
  setTimeout(() => console.log(collections), 50);
`;

for (const enable of [true, false]) {
  test(`${enable ? 'switched on: five collections for 320 MiB' : 'not switched on: none'}`, () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script(enable)], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(Number(run.stdout.trim()), enable ? 5 : 0);
  });
}
