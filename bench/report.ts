// Turns the repetitions into the figures the README quotes: medians of the
// times, worst cases of memory and disk, the ratios and whether each target
// is met. Pure, so the table can be checked without running a stack.
import type { FloorBackup, FloorParts } from './floor.ts';
import type { HossadmRun } from './measure.ts';

export const TARGETS = {
  backupVsFloor: 1.3,
  restoreVsFloor: 1.5,
  peakRssBytes: 150 * 1024 * 1024,
  /** "The same at 1x and 4x": within 10 %, the noise of a garbage-collected heap. */
  rssGrowth: 1.1,
  diskVsArchive: 2.1,
  timeGrowthPerFactor: 1.1,
} as const;

export interface Repetition {
  loadavg: number[];
  order: 'floor-first' | 'hossadm-first';
  floorBackup: FloorBackup;
  floorRestore: FloorParts;
  backup: HossadmRun;
  restore: HossadmRun;
  archiveBytes: number;
  /** The manifest's freeze window and the longest per-service stop. */
  windowSeconds: number;
  downtimeSeconds: number;
  /** Sum of hossadm's "volume ..." steps in the backup: the copy that must happen while writers are stopped. */
  volumePhaseSeconds: number;
}

export interface ScaleRun {
  scale: number;
  stackSeedScale: number;
  /** What the stack holds, in bytes, by part (apparent sizes). */
  state: Record<string, number>;
  repetitions: Repetition[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface ScaleSummary {
  scale: number;
  stateBytes: number;
  backupSeconds: number;
  backupFloorSeconds: number;
  backupRatio: number;
  restoreSeconds: number;
  restoreFloorSeconds: number;
  restoreRatio: number;
  peakRssBackupBytes: number;
  peakRssRestoreBytes: number;
  peakExtraDiskBytes: number;
  archiveBytes: number;
  diskRatio: number;
  downtimeSeconds: number;
  windowSeconds: number;
  volumePhaseSeconds: number;
  /** Median seconds per hossadm step and per floor part, for the "why" of a miss. */
  backupSteps: Record<string, number>;
  restoreSteps: Record<string, number>;
  floorBackupParts: Record<string, number>;
  floorRestoreParts: Record<string, number>;
  /** Highest resident memory seen during each step, MiB, worst repetition. */
  backupStepRssMiB: Record<string, number>;
  restoreStepRssMiB: Record<string, number>;
  /** CPU seconds of the hossadm process (medians): the figure a busy neighbour does not inflate much. */
  backupCpuSeconds: number;
  restoreCpuSeconds: number;
}

function stepPeaks(runs: readonly HossadmRun[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const run of runs) for (const step of run.steps) out[step.label] = Math.max(out[step.label] ?? 0, Math.round(step.peakRssBytes / 1024 / 1024));
  return out;
}

function medianRecord(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, round(median(records.map((r) => r[k] ?? 0)), 2)]));
}

/** Steps of one run summed by label (a label can repeat, e.g. two waits for services). */
function stepRecord(run: HossadmRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { label, seconds } of run.steps) out[label] = (out[label] ?? 0) + seconds;
  return out;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Medians for times; the worst repetition for memory and disk, since a peak is what must fit. */
export function summarize(run: ScaleRun): ScaleSummary {
  const reps = run.repetitions;
  const backupSeconds = median(reps.map((r) => r.backup.seconds));
  const backupFloorSeconds = median(reps.map((r) => r.floorBackup.total));
  const restoreSeconds = median(reps.map((r) => r.restore.seconds));
  const restoreFloorSeconds = median(reps.map((r) => r.floorRestore.total));
  const worstDisk = reps.reduce((worst, r) => (r.backup.peakExtraDiskBytes / r.archiveBytes > worst.backup.peakExtraDiskBytes / worst.archiveBytes ? r : worst), reps[0]!);
  return {
    scale: run.scale,
    stateBytes: Object.values(run.state).reduce((a, b) => a + b, 0),
    backupSeconds: round(backupSeconds, 2),
    backupFloorSeconds: round(backupFloorSeconds, 2),
    backupRatio: round(backupSeconds / backupFloorSeconds, 2),
    restoreSeconds: round(restoreSeconds, 2),
    restoreFloorSeconds: round(restoreFloorSeconds, 2),
    restoreRatio: round(restoreSeconds / restoreFloorSeconds, 2),
    peakRssBackupBytes: Math.max(...reps.map((r) => r.backup.peakRssBytes)),
    peakRssRestoreBytes: Math.max(...reps.map((r) => r.restore.peakRssBytes)),
    peakExtraDiskBytes: worstDisk.backup.peakExtraDiskBytes,
    archiveBytes: worstDisk.archiveBytes,
    diskRatio: round(worstDisk.backup.peakExtraDiskBytes / worstDisk.archiveBytes, 2),
    downtimeSeconds: round(median(reps.map((r) => r.downtimeSeconds)), 1),
    windowSeconds: round(median(reps.map((r) => r.windowSeconds)), 1),
    volumePhaseSeconds: round(median(reps.map((r) => r.volumePhaseSeconds)), 1),
    backupSteps: medianRecord(reps.map((r) => stepRecord(r.backup))),
    restoreSteps: medianRecord(reps.map((r) => stepRecord(r.restore))),
    floorBackupParts: medianRecord(reps.map((r) => r.floorBackup.parts)),
    floorRestoreParts: medianRecord(reps.map((r) => r.floorRestore.parts)),
    backupStepRssMiB: stepPeaks(reps.map((r) => r.backup)),
    restoreStepRssMiB: stepPeaks(reps.map((r) => r.restore)),
    backupCpuSeconds: round(median(reps.map((r) => r.backup.cpuSeconds)), 1),
    restoreCpuSeconds: round(median(reps.map((r) => r.restore.cpuSeconds)), 1),
  };
}

export interface Verdict {
  name: string;
  base: string;
  grown: string;
  target: string;
  met: boolean;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const s = (seconds: number) => `${seconds.toFixed(1)} s`;

/** The many-small-files case: how many files, and the summary of its runs. */
export interface ManyFiles {
  files: number;
  summary: ScaleSummary;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * One row per target; `grown` is undefined when only one scale ran,
 * `many` when the many-small-files case was not measured.
 */
export function verdicts(base: ScaleSummary, grown: ScaleSummary | undefined, factor: number, many?: ManyFiles): Verdict[] {
  const both = (f: (x: ScaleSummary) => string) => ({ base: f(base), grown: grown ? f(grown) : '–' });
  const all = (ok: (x: ScaleSummary) => boolean) => ok(base) && (!grown || ok(grown));
  const rows: Verdict[] = [
    {
      name: 'backup vs floor',
      ...both((x) => `${s(x.backupSeconds)} / ${s(x.backupFloorSeconds)} = ${x.backupRatio.toFixed(2)}×`),
      target: `≤ ${TARGETS.backupVsFloor}×`,
      met: all((x) => x.backupRatio <= TARGETS.backupVsFloor),
    },
    {
      name: 'restore vs floor',
      ...both((x) => `${s(x.restoreSeconds)} / ${s(x.restoreFloorSeconds)} = ${x.restoreRatio.toFixed(2)}×`),
      target: `≤ ${TARGETS.restoreVsFloor}×`,
      met: all((x) => x.restoreRatio <= TARGETS.restoreVsFloor),
    },
    {
      name: 'peak RSS backup / restore',
      ...both((x) => `${mb(x.peakRssBackupBytes)} / ${mb(x.peakRssRestoreBytes)}`),
      target: `≤ ${mb(TARGETS.peakRssBytes)}${grown ? `, ${factor}× within ${Math.round((TARGETS.rssGrowth - 1) * 100)} % of 1×` : ''}`,
      met:
        all((x) => Math.max(x.peakRssBackupBytes, x.peakRssRestoreBytes) <= TARGETS.peakRssBytes) &&
        (!grown ||
          (grown.peakRssBackupBytes <= base.peakRssBackupBytes * TARGETS.rssGrowth && grown.peakRssRestoreBytes <= base.peakRssRestoreBytes * TARGETS.rssGrowth)),
    },
    {
      name: 'peak extra disk vs archive',
      ...both((x) => `${mb(x.peakExtraDiskBytes)} / ${mb(x.archiveBytes)} = ${x.diskRatio.toFixed(2)}×`),
      target: `≤ ${TARGETS.diskVsArchive}×`,
      met: all((x) => x.diskRatio <= TARGETS.diskVsArchive),
    },
    {
      name: 'downtime vs volume copy',
      ...both((x) => `${s(x.downtimeSeconds)} vs ${s(x.volumePhaseSeconds)} (backup ${s(x.backupSeconds)})`),
      target: '≤ volume copy',
      met: all((x) => x.downtimeSeconds <= x.volumePhaseSeconds),
    },
  ];
  if (grown) {
    const limit = factor * TARGETS.timeGrowthPerFactor;
    const b = grown.backupSeconds / base.backupSeconds;
    const r = grown.restoreSeconds / base.restoreSeconds;
    rows.push({
      name: `time at ${factor}× / at 1×`,
      base: `backup ${b.toFixed(2)}×`,
      grown: `restore ${r.toFixed(2)}×`,
      target: `≤ ${limit.toFixed(1)}×`,
      met: b <= limit && r <= limit,
    });
  }
  if (many) {
    const peak = (x: ScaleSummary) => Math.max(x.peakRssBackupBytes, x.peakRssRestoreBytes);
    rows.push({
      name: `peak RSS at ${count(many.files)} files within ${Math.round((TARGETS.rssGrowth - 1) * 100)} % of 1×`,
      base: `1×: ${mb(base.peakRssBackupBytes)} / ${mb(base.peakRssRestoreBytes)}`,
      grown: `${count(many.files)} files: ${mb(many.summary.peakRssBackupBytes)} / ${mb(many.summary.peakRssRestoreBytes)}`,
      target: `≤ ${mb(peak(base) * TARGETS.rssGrowth)}`,
      met: peak(many.summary) <= peak(base) * TARGETS.rssGrowth,
    });
  }
  return rows;
}

/** `second`: the growth factor, or the title of the second column; left out when no row fills it. */
export function renderTable(rows: Verdict[], second: number | string, header: string): string {
  const two = rows.some((r) => r.grown !== '–');
  const head = ['measure', '1×', ...(two ? [typeof second === 'number' ? `${second}×` : second] : []), 'target', 'result'];
  const body = rows.map((r) => [r.name, r.base, ...(two ? [r.grown] : []), r.target, r.met ? 'met' : 'MISSED']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [header, '', line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** What the bench writes per stack into the results file. */
export interface StackResult {
  stack: string;
  floor: string;
  factor: number;
  runs: number;
  grownRuns: number;
  verdicts: Verdict[];
  summaries: ScaleSummary[];
  scales: ScaleRun[];
  manyFiles?: ManyFiles & { run: ScaleRun };
}

export interface ResultsFile {
  startedAt: string;
  seconds: number;
  hossadm: { version: string; commit: string };
  stacks: Record<string, StackResult>;
}

/**
 * The results file as the bench writes it; a file from before the bench
 * knew several stacks (verdicts and summaries at the top, HOSS only) reads
 * as one with a single stack, hoss.
 */
export function readResults(json: unknown): ResultsFile {
  const data = json as ResultsFile & Partial<StackResult> & { options?: Partial<{ runs: number; grownRuns: number; factor: number }> };
  if (data.stacks) return data;
  const scales = data.scales ?? [];
  const options = { runs: scales[0]?.repetitions.length ?? 0, grownRuns: scales[1]?.repetitions.length ?? 0, factor: scales[1] ? scales[1].scale / scales[0]!.scale : 1, ...data.options };
  return {
    startedAt: data.startedAt,
    seconds: data.seconds,
    hossadm: data.hossadm,
    stacks: {
      hoss: {
        stack: 'hoss',
        floor: data.floor ?? '',
        factor: options.factor,
        runs: options.runs,
        grownRuns: options.grownRuns,
        verdicts: data.verdicts ?? [],
        summaries: data.summaries ?? [],
        scales,
      },
    },
  };
}

const STACK_TITLES: Record<string, string> = { hoss: 'HOSS', thehive: 'TheHive', wire: 'Wire', cybersift: 'CyberSift' };

/** The line above a stack's table: state, repetitions, load. */
export function stackHeader(result: StackResult): string {
  const [base, grown] = result.summaries;
  const gb = (x: ScaleSummary | undefined) => (x ? `${(x.stateBytes / 1e9).toFixed(2)} GB` : '');
  const loads = result.scales.flatMap((sc) => sc.repetitions.map((r) => r.loadavg[0]!));
  const scale = result.scales[0]?.scale ?? 1;
  return (
    `**${STACK_TITLES[result.stack] ?? result.stack}**: scale ${scale} (${gb(base)} of state)` +
    (grown ? ` and ${result.factor}× (${gb(grown)})` : '') +
    (result.manyFiles ? `, and ${count(result.manyFiles.files)} small files (${gb(result.manyFiles.summary)})` : '') +
    `; medians of ${result.runs}${grown ? ` and ${result.grownRuns}` : ''} runs` +
    (loads.length ? `; load average (1 min) at the start of the runs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '')
  );
}

/** One stack's verdicts as a Markdown table: the grown column only when a grown scale ran. */
export function markdownTable(result: StackResult): string {
  const grown = result.verdicts.some((v) => v.grown !== '–');
  const head = ['measure', '1×', ...(grown ? [result.summaries.length > 1 ? `${result.factor}×` : 'many files'] : []), 'target', 'result'];
  const body = result.verdicts.map((v) => [v.name, v.base, ...(grown ? [v.grown] : []), v.target, v.met ? 'met' : 'missed']);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...body.map(line)].join('\n');
}

/** Every stack of a results file, in the order measured: the performance table of the docs. */
export function renderResults(results: ResultsFile): string {
  const blocks = Object.values(results.stacks).map((r) => `${stackHeader(r)}\n\n${markdownTable(r)}`);
  const minutes = Math.round(results.seconds / 60);
  return [`Commit \`${results.hossadm.commit.slice(0, 7)}\`, run started ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${minutes} min.`, ...blocks].join('\n\n');
}
