// `npm run bench [-- --stack hoss|thehive|wire|cybersift|all] [--scale N] [--runs R]
// [--runs-grown R] [--factor F] [--files N] [--out FILE]`: hossadm's backup and
// restore against their floor (each component's native operation alone, see
// floor.ts and targets.ts), its memory and disk, and how cost grows with the
// data; on a private copy of each reference stack, removed afterwards.
// Prints one table per stack and writes every figure to one
// bench/results/<date>.json.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fillPlan, fillVolume, manyFilesShape } from './fill.ts';
import { floorBackup, floorCleanup, floorRestore } from './floor.ts';
import { runHossadm } from './measure.ts';
import { estimateMinutes, factorFor, type Options, parseArgs, UsageError } from './options.ts';
import { renderTable, type Repetition, type ScaleRun, type StackResult, summarize, verdicts } from './report.ts';
import { BENCH_VOLUME, BenchStack, REPO, run } from './stack.ts';
import { type BenchTarget, TARGETS } from './targets.ts';

// Read once: the sandbox has been seen to report a passing third core.
const CORES = availableParallelism();

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

/**
 * The machine is shared: give a busy neighbour up to a minute to finish
 * before a repetition (load above 1.5 per core), then measure anyway and
 * record the load; floor and hossadm run back to back, so their ratio holds.
 */
async function waitForQuiet(): Promise<void> {
  const limit = CORES * 1.5;
  const until = Date.now() + 60_000;
  while (loadavg()[0]! > limit && Date.now() < until) {
    log(`load ${load().join(' ')} on ${CORES} cores, above ${limit}; waiting for it to drop`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

/** Where a measurement has no floor (the many-files case is about memory): nothing timed. */
const NO_FLOOR = { fb: { parts: {}, total: 0, volumeBytes: 0, dumpBytes: 0 }, fr: { parts: {}, total: 0 } };

async function repetition(stack: BenchStack, target: BenchTarget, index: number, withFloor = true): Promise<Repetition> {
  await waitForQuiet();
  const loadAtStart = load();
  // Alternate which side goes first, so neither always gets the warmer cache.
  const order = index % 2 === 0 ? 'floor-first' : 'hossadm-first';
  const floor = async () => {
    if (!withFloor) return NO_FLOOR;
    log(`  floor backup, restore`);
    const pieces = target.floor(stack);
    const fb = await floorBackup(stack, pieces);
    const fr = await floorRestore(pieces);
    await floorCleanup(stack, pieces);
    const parts = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    log(`  floor: backup ${fb.total.toFixed(1)} s (${parts(fb.parts)}), restore ${fr.total.toFixed(1)} s (${parts(fr.parts)}) (load ${load().join(' ')})`);
    return { fb, fr };
  };
  const hossadm = async () => {
    log('  hossadm backup');
    const backup = await runHossadm(stack, ['backup']);
    const archive = String(backup.result.archive);
    log(`  hossadm restore ${archive}`);
    const restore = await runHossadm(stack, ['restore', archive]);
    await rm(archive, { force: true });
    const steps = (r: typeof backup) => r.steps.map((x) => `${x.label} ${x.seconds}`).join(', ');
    log(`  hossadm: backup ${backup.seconds.toFixed(1)} s (${steps(backup)}), restore ${restore.seconds.toFixed(1)} s (${steps(restore)}) (load ${load().join(' ')})`);
    return { backup, restore };
  };
  let floorResult: Awaited<ReturnType<typeof floor>>;
  let hossadmResult: Awaited<ReturnType<typeof hossadm>>;
  if (order === 'floor-first') {
    floorResult = await floor();
    hossadmResult = await hossadm();
  } else {
    hossadmResult = await hossadm();
    floorResult = await floor();
  }
  const { backup, restore } = hossadmResult;
  const consistency = backup.result.consistency as { windowSeconds: number; stopped: { seconds: number }[] };
  return {
    loadavg: loadAtStart,
    order,
    floorBackup: floorResult.fb,
    floorRestore: floorResult.fr,
    backup,
    restore,
    archiveBytes: Number(backup.result.bytes),
    windowSeconds: consistency.windowSeconds,
    downtimeSeconds: Math.max(0, ...consistency.stopped.map((x) => x.seconds)),
    volumePhaseSeconds: target.copyPhaseSeconds(backup.steps),
  };
}

const sinceStart = (started: number) => `${((performance.now() - started) / 1000).toFixed(0)} s`;

async function measureScale(stack: BenchStack, target: BenchTarget, scale: number, runs: number, fill?: () => Promise<string>, withFloor = true): Promise<ScaleRun> {
  const started = performance.now();
  const what = await (fill ?? (() => target.fill(stack, scale)))();
  const state = await target.stateSizes(stack);
  log(`${stack.name} scale ${scale}: ${what}; state ${(Object.values(state).reduce((a, b) => a + b, 0) / 1e9).toFixed(2)} GB (${Object.entries(state).map(([k, v]) => `${k} ${(v / 1e6).toFixed(0)} MB`).join(', ')}) in ${sinceStart(started)}`);
  const repetitions: Repetition[] = [];
  for (let i = 0; i < runs; i++) {
    const at = performance.now();
    log(`${stack.name} scale ${scale}: repetition ${i + 1} of ${runs}`);
    repetitions.push(await repetition(stack, target, i, withFloor));
    log(`${stack.name} scale ${scale}: repetition ${i + 1} took ${sinceStart(at)}`);
  }
  return { scale, stackSeedScale: scale * target.seedPerScale, state, repetitions };
}

/** One stack from up to teardown; `current` lets a signal tear down the stack being measured. */
async function measureStack(options: Options, target: BenchTarget, current: { stack?: BenchStack }): Promise<{ result: StackResult; commit: string; table: string }> {
  const started = performance.now();
  const stack = await BenchStack.create(target.name);
  current.stack = stack;
  const factor = factorFor(options, target);
  const scales: ScaleRun[] = [];
  let manyFiles: ScaleRun | undefined;
  let commit = '';
  try {
    commit = await stack.buildCli();
    log(`${stack.name}: hossadm ${commit.slice(0, 12)} built in ${stack.cli}; stack ${stack.project} in ${stack.hossDir} (load ${load().join(' ')})`);
    await stack.up();
    log(`${stack.name}: up in ${sinceStart(started)}`);
    await mkdir(stack.pipeDir, { recursive: true, mode: 0o700 });
    scales.push(await measureScale(stack, target, options.scale, options.runs));
    if (target.name === 'hoss' && options.files > 0) {
      // The stack stays at 1×; only the bench volume changes, to many small
      // files. hossadm alone: the case's verdict is memory, and a floor of
      // 200,000 files would cost minutes.
      const shape = manyFilesShape(options.files);
      manyFiles = await measureScale(stack, target, options.scale, 1, async () => {
        const plan = fillPlan(options.scale, shape);
        await fillVolume(stack.docker, { volume: stack.dockerVolume(BENCH_VOLUME), scale: options.scale, shape, image: stack.env.HOSSADM_HELPER_IMAGE || 'hoss-local/busybox:local', pipeDir: stack.pipeDir, runId: stack.runId });
        return `${BENCH_VOLUME}: ${plan.files} small files, ${(plan.bytes / 1e9).toFixed(2)} GB`;
      }, false);
    }
    if (factor > 1) scales.push(await measureScale(stack, target, options.scale * factor, options.grownRuns));
  } finally {
    if (current.stack) {
      log(`${stack.name}: tearing down`);
      await stack.teardown(log);
      current.stack = undefined;
    }
  }
  const summaries = scales.map(summarize);
  const [base, grown] = summaries;
  const many = manyFiles ? { files: fillPlan(options.scale, manyFilesShape(options.files)).files, summary: summarize(manyFiles) } : undefined;
  const rows = verdicts(base!, grown, factor, many);
  const loads = [...scales, ...(manyFiles ? [manyFiles] : [])].flatMap((sc) => sc.repetitions.map((r) => r.loadavg[0]!));
  const header =
    `hossadm bench, ${stack.name}, scale ${options.scale} (${(base!.stateBytes / 1e9).toFixed(2)} GB of state)` +
    (grown ? ` and ${factor}× (${(grown.stateBytes / 1e9).toFixed(2)} GB)` : '') +
    `, medians of ${options.runs}${grown ? ` and ${options.grownRuns}` : ''} runs; load average (1 min) at the start of the runs ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${CORES} cores; ${sinceStart(started)} in all`;
  log(`${stack.name}: done in ${sinceStart(started)}`);
  return {
    commit,
    table: renderTable(rows, grown || !many ? factor : 'many files', header),
    result: {
      stack: target.name,
      floor: target.floorDescription,
      factor,
      runs: options.runs,
      grownRuns: options.grownRuns,
      verdicts: rows,
      summaries,
      scales,
      ...(manyFiles && many ? { manyFiles: { ...many, run: manyFiles } } : {}),
    },
  };
}

async function resultPath(explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  const dir = join(REPO, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const path = join(dir, n === 1 ? `${date}.json` : `${date}-${n}.json`);
    if (!existsSync(path)) return path;
  }
}

/** Set by SIGINT/SIGTERM: the handler tears down and exits 130, whatever the interrupted work throws meanwhile. */
let interrupted = false;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2), TARGETS);
  await run('zstd', ['--version']);
  const estimate = estimateMinutes(options, TARGETS);
  log(`estimate: about ${Math.round(estimate.total)} min (${options.stacks.map((s) => `${s} ${estimate[s]}`).join(', ')} min) at a load like the last full run's`);
  const current: { stack?: BenchStack } = {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: tearing down what the bench made`);
    const stack = current.stack;
    current.stack = undefined;
    void (stack ? stack.teardown(log) : Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date();
  const stacks: Record<string, StackResult> = {};
  const tables: string[] = [];
  let commit = '';
  for (const name of options.stacks) {
    const measured = await measureStack(options, TARGETS[name], current);
    commit = measured.commit;
    stacks[name] = measured.result;
    tables.push(measured.table);
    process.stdout.write(`${measured.table}\n\n`);
  }

  const path = await resultPath(options.out);
  const packageJson = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  await writeFile(
    path,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        machine: { cores: CORES, memoryBytes: totalmem(), node: process.version, zstd: (await run('zstd', ['-q', '--version'])).stdout.trim() },
        hossadm: { version: packageJson.version, commit },
        options,
        estimateMinutes: estimate,
        stacks,
      },
      null,
      2,
    )}\n`,
  );
  log(`${options.stacks.join(', ')} in ${Math.round((Date.now() - startedAt.getTime()) / 60_000)} min (estimate ${Math.round(estimate.total)} min)`);
  process.stdout.write(`figures: ${path}\n`);
}

main().catch((error: unknown) => {
  // A signal's teardown is under way (the stack going away is what failed); it exits when done.
  if (interrupted) return;
  if (error instanceof UsageError) {
    log(error.message);
    process.exit(2);
  }
  log((error as Error).stack ?? String(error));
  process.exit(1);
});
