// Fuzzing the archive reader with a real archive: a backup of the seeded
// reference stack, damaged in over a thousand seeded ways (flipped bytes, cut
// lengths, members moved, doubled or left out, an edited manifest), each run
// through `verify` and `restore --dry-run` as the CLI runs them. Every case
// must end in a clean error (a typed ArchiveError, exit 7) or a correct
// result (the members' contents unchanged), never a crash, never a success on
// damaged data, and nothing may be written: not beside the archive, not in
// BACKUP_ROOT, not in the temporary folder, not in the stack.
//
// The reference stack's LDAP volume holds a 1 GiB sparse map file that every
// full read of the archive decompresses and hashes (about 1.3 s here), so the
// thousand cases use a backup taken with that one volume left out
// (HOSSADM_VOLUMES); a sample of cases runs on the full backup too, and a
// sample of both through the real CLI process.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { updateEnvText } from '../../src/config/env-file.ts';
import { MUTATORS, Random, contentOf, layoutOf, type ArchiveLayout, type Mutation, type MutationKind } from './archive-mutations.ts';
import { runInProcess, verdict, type Outcome } from './fuzz-runner.ts';
import { hossadm, hossadmOk } from './hossadm-support.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('fuzz');
const root = dirname(stack.hossDir);
const backupRoot = join(stack.hossDir, 'backup');
const cases = join(root, 'cases');
const tmp = join(root, 'tmp');
const env = { ...stack.env, TMPDIR: tmp };
const SEED = Number(process.env['HOSSADM_FUZZ_SEED'] ?? 0x5eed2026);
const CASES = 1000;
/** Per 20 cases: 7 flips, 5 cuts, 2 moves, 2 doubles, 1 drop, 3 manifest edits. */
const SCHEDULE: readonly MutationKind[] = [
  'flip', 'cut', 'manifest', 'flip', 'reorder', 'cut', 'flip', 'duplicate', 'flip', 'cut',
  'manifest', 'flip', 'drop', 'cut', 'flip', 'reorder', 'duplicate', 'flip', 'cut', 'manifest',
];
/** Each full read of the full backup takes over a second, twice per case. */
const FULL_CASES = 12;
const CASE_TIMEOUT_MS = 120_000;
const MTIME = new Date('2026-01-01T00:00:00Z');

let fullArchive: string;
let smallArchive: string;
let saved: string;
let files: Map<string, string>;
let tmpNamesBefore: string[];
/** In-process verdicts of the thousand cases, for the CLI sample to match. */
const verdicts = new Map<number, string>();

const fingerprint = () => stackOk(['fingerprint'], stack.env);
const newestArchive = async () => join(backupRoot, 'backups', (await readdir(join(backupRoot, 'backups'))).filter((n) => !n.startsWith('.')).sort().at(-1)!);

/** Case `index` of a seed, made again identically from the two numbers alone. */
function mutation(layout: ArchiveLayout, seed: number, index: number): Mutation {
  const random = new Random(seed ^ Math.imul(index + 1, 0x9e3779b1));
  return MUTATORS[SCHEDULE[index % SCHEDULE.length]!](layout, random, MTIME);
}

/** Names, sizes and times of everything hossadm could write to: BACKUP_ROOT in full, the config folder's own files. */
async function snapshot(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const info = await stat(path);
      out.set(path, entry.isDirectory() ? 'dir' : `${info.size} ${info.mtimeMs}`);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(backupRoot);
  await walk(tmp);
  for (const entry of await readdir(stack.hossDir, { withFileTypes: true })) {
    if (entry.isFile()) out.set(join(stack.hossDir, entry.name), `${(await stat(join(stack.hossDir, entry.name))).size}`);
    else out.set(join(stack.hossDir, entry.name), 'dir');
  }
  return out;
}

interface Tally {
  cases: number;
  cleanErrors: number;
  correctResults: number;
  crashes: string[];
  wrongSuccesses: string[];
  otherErrors: string[];
  disagreements: string[];
  writes: string[];
  kinds: Map<MutationKind, number>;
  slowest: number;
}

function newTally(): Tally {
  return { cases: 0, cleanErrors: 0, correctResults: 0, crashes: [], wrongSuccesses: [], otherErrors: [], disagreements: [], writes: [], kinds: new Map(), slowest: 0 };
}

/** Runs verify and restore --dry-run in this process on one damaged copy, and files the result. */
async function runCase(tally: Tally, index: number, damaged: Mutation, original: string): Promise<string> {
  const path = join(cases, `case-${index}.tar.zst`);
  await writeFile(path, damaged.bytes, { mode: 0o600 });
  const where = `case ${index} (${damaged.label})`;
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('no answer')), CASE_TIMEOUT_MS);
  const outcomes: Outcome[] = [];
  try {
    for (const args of [['verify', path], ['restore', '--dry-run', path]]) {
      const outcome = await runInProcess(args, { ...process.env, ...env }, controller.signal);
      outcomes.push(controller.signal.aborted ? { kind: 'crash', message: `no answer within ${CASE_TIMEOUT_MS / 1000} s` } : outcome);
    }
  } finally {
    clearTimeout(timer);
  }
  tally.slowest = Math.max(tally.slowest, Date.now() - started);
  const [verify, restore] = outcomes as [Outcome, Outcome];
  tally.cases++;
  tally.kinds.set(damaged.kind, (tally.kinds.get(damaged.kind) ?? 0) + 1);
  for (const [command, outcome] of [['verify', verify], ['restore --dry-run', restore]] as const) {
    if (outcome.kind === 'crash') tally.crashes.push(`${where}: ${command}: ${outcome.message}`);
    if (outcome.kind === 'error' && !outcome.archive) tally.otherErrors.push(`${where}: ${command}: exit ${outcome.exitCode}: ${outcome.message}`);
  }
  if (verdict(verify) !== verdict(restore)) tally.disagreements.push(`${where}: verify ${verdict(verify)}, restore --dry-run ${verdict(restore)}`);
  if (verify.kind === 'ok' || restore.kind === 'ok') {
    // Success is right only if every member, manifest included, is what the backup wrote; judged by node's own decoder, not the reader under test.
    let content = '';
    try {
      content = JSON.stringify(contentOf(layoutOf(damaged.bytes)));
    } catch (error) {
      content = `unreadable: ${(error as Error).message}`;
    }
    if (content === original) tally.correctResults++;
    else tally.wrongSuccesses.push(`${where}: verify ${verdict(verify)}, restore --dry-run ${verdict(restore)}, content ${content.slice(0, 200)}`);
  } else if (verify.kind === 'error' && verify.archive && restore.kind === 'error' && restore.archive) {
    tally.cleanErrors++;
  }
  // Nothing beside the archive: no record, no partial file, no unpacked member.
  const beside = await readdir(cases);
  if (beside.length !== 1) tally.writes.push(`${where}: ${beside.join(', ')}`);
  await rm(path);
  return verdict(verify);
}

function summary(label: string, seed: number, tally: Tally): string {
  const kinds = [...tally.kinds].map(([kind, count]) => `${kind} ${count}`).join(', ');
  const agree = tally.cases - tally.disagreements.length;
  return `fuzz (${label}): ${tally.cases} cases (seed 0x${seed.toString(16)}): ${tally.cleanErrors} clean errors, ${tally.correctResults} correct results, ` +
    `${tally.crashes.length} crashes, ${tally.wrongSuccesses.length} wrong successes, ${tally.writes.length} writes outside; kinds: ${kinds}; ` +
    `verify and restore --dry-run agree in ${agree}/${tally.cases}; slowest case ${(tally.slowest / 1000).toFixed(1)} s`;
}

function assertClean(tally: Tally): void {
  assert.deepEqual(tally.crashes.slice(0, 5), [], 'a case crashed (the CLI would print a stack trace and exit 1)');
  assert.deepEqual(tally.wrongSuccesses.slice(0, 5), [], 'a damaged archive was reported as good');
  assert.deepEqual(tally.otherErrors.slice(0, 5), [], 'damage must be an archive error (exit 7)');
  assert.deepEqual(tally.disagreements.slice(0, 5), [], 'verify and restore --dry-run must reach the same verdict');
  assert.deepEqual(tally.writes.slice(0, 5), [], 'something was written beside the archive');
  assert.equal(tally.cleanErrors + tally.correctResults, tally.cases);
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  await hossadmOk(['backup', '--yes', '--quiet'], stack.env);
  fullArchive = await newestArchive();
  const envPath = join(stack.hossDir, '.env');
  // Archive names carry the time to the second.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await writeFile(envPath, updateEnvText(await readFile(envPath, 'utf8'), { HOSSADM_VOLUMES: 'auth-secrets,ldap-vol1,rabbitmq-data' }));
  await hossadmOk(['backup', '--yes', '--quiet'], stack.env);
  smallArchive = await newestArchive();
  await mkdir(cases, { recursive: true });
  await mkdir(tmp, { recursive: true });
  saved = await fingerprint();
  files = await snapshot();
  tmpNamesBefore = await readdir('/tmp');
});

after(async () => {
  await runStack(['reset'], stack.env);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test(`${CASES} damaged copies of a real archive: verify and restore --dry-run end in a clean error or a correct result`, async () => {
  const layout = layoutOf(await readFile(smallArchive));
  assert.ok(layout.members.length >= 9, `the archive holds ${layout.members.map((m) => m.name).join(', ')}`);
  const original = JSON.stringify(contentOf(layout));
  // The undamaged archive passes both commands: success can be recognised.
  const control = newTally();
  await runCase(control, -1, { kind: 'flip', label: 'undamaged', bytes: layout.bytes }, original);
  assert.deepEqual([control.correctResults, control.crashes, control.disagreements], [1, [], []], JSON.stringify(control));
  const tally = newTally();
  const previousTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = tmp;
  const started = Date.now();
  let peakRss = 0;
  try {
    for (let index = 0; index < CASES; index++) {
      verdicts.set(index, await runCase(tally, index, mutation(layout, SEED, index), original));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  } finally {
    if (previousTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previousTmp;
  }
  console.log(`${summary('archive without the LDAP map volume', SEED, tally)}; ${((Date.now() - started) / 1000).toFixed(0)} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  assertClean(tally);
  assert.ok(tally.cases >= CASES);
  assert.ok(peakRss < 2 * 2 ** 30, `peak RSS ${peakRss}`);
});

test('cases on the full backup (the 1 GiB sparse LDAP map included) end the same way', async () => {
  const layout = layoutOf(await readFile(fullArchive));
  const original = JSON.stringify(contentOf(layout));
  const tally = newTally();
  const started = Date.now();
  for (let index = 0; index < FULL_CASES; index++) await runCase(tally, index, mutation(layout, SEED + 1, index), original);
  console.log(`${summary('full archive', SEED + 1, tally)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  assertClean(tally);
});

test('a sample of 30 cases through the real CLI process: exit 7 (or 0 for a correct result), one line, no stack trace', async () => {
  const layout = layoutOf(await readFile(smallArchive));
  const sample = Array.from({ length: 30 }, (_, k) => k * 33 + (k % 3));
  const seen = new Map<MutationKind, number>();
  for (const index of sample) {
    const damaged = mutation(layout, SEED, index);
    seen.set(damaged.kind, (seen.get(damaged.kind) ?? 0) + 1);
    const path = join(cases, `cli-${index}.tar.zst`);
    await writeFile(path, damaged.bytes, { mode: 0o600 });
    const runs = await Promise.all([hossadm(['--quiet', 'verify', path], env), hossadm(['--quiet', 'restore', '--dry-run', path], env)]);
    for (const run of runs) {
      const where = `case ${index} (${damaged.label})`;
      assert.ok(run.code === 7 || run.code === 0, `${where}: exit ${run.code}\n${run.stderr}`);
      const expected = verdicts.get(index);
      if (expected !== undefined) assert.equal(run.code === 0 ? 'ok' : `exit ${run.code}`, expected, `${where}: the CLI and the in-process run differ`);
      if (run.code !== 0) {
        assert.match(run.stderr, /^hossadm: [^\n]+\n$/, `${where}: one line expected:\n${run.stderr}`);
        assert.doesNotMatch(run.stderr, /\n\s+at /, `${where}: stack trace`);
      }
    }
    assert.deepEqual(await readdir(cases), [`cli-${index}.tar.zst`], 'nothing written beside the archive');
    await rm(path);
  }
  console.log(`fuzz (CLI sample): ${sample.length} cases, kinds: ${[...seen].map(([kind, count]) => `${kind} ${count}`).join(', ')}`);
  assert.ok(seen.size >= 5, 'the sample mixes the kinds of damage');
});

test('nothing was written: BACKUP_ROOT, the config folder and TMPDIR as before, the stack fingerprint unchanged', async () => {
  const now = await snapshot();
  const changed = [...new Set([...files.keys(), ...now.keys()])].filter((path) => files.get(path) !== now.get(path));
  assert.deepEqual(changed, []);
  // Other tests share /tmp; what hossadm or a case could leave there would carry one of these names.
  // The other stream's format-1 test works in /tmp/hossadm-format1 (the folder its archive names).
  const fresh = (await readdir('/tmp')).filter((name) => !tmpNamesBefore.includes(name) && name !== 'hossadm-format1' && /hossadm|restore|escape|case-|\.partial/.test(name));
  assert.deepEqual(fresh, []);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
});
