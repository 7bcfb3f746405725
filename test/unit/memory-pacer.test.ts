// The pacer collects young garbage every 16 MiB passed on and all of it
// every 64 MiB, and only once the CLI has switched it on: a library user
// keeps V8's own timing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const script = (enable: boolean) => `
  import { enableMemoryPacing, paceMemory } from './src/archive/memory-pacer.ts';
  import { PerformanceObserver } from 'node:perf_hooks';
  const collections = { major: 0, minor: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === 4) collections.major++;
      if (e.detail?.kind === 1) collections.minor++;
    }
  }).observe({ entryTypes: ['gc'] });
  ${enable ? 'enableMemoryPacing();' : ''}
  for (let i = 0; i < 64 * 5; i++) paceMemory(1024 * 1024);
  setTimeout(() => console.log(JSON.stringify(collections)), 50);
`;

for (const enable of [true, false]) {
  test(`${enable ? 'switched on: for 320 MiB five full collections and at least fifteen young ones' : 'not switched on: none'}`, () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script(enable)], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout.trim()) as { major: number; minor: number };
    // V8 may add young collections of its own; full ones only come from the pacer here.
    assert.equal(seen.major, enable ? 5 : 0);
    if (enable) assert.ok(seen.minor >= 15, `young collections: ${seen.minor}`);
  });
}
