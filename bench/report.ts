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

/** One row per target; `grown` is undefined when only one scale ran. */
export function verdicts(base: ScaleSummary, grown: ScaleSummary | undefined, factor: number): Verdict[] {
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
  return rows;
}

export function renderTable(rows: Verdict[], factor: number, header: string): string {
  const head = ['measure', '1×', `${factor}×`, 'target', 'result'];
  const body = rows.map((r) => [r.name, r.base, r.grown, r.target, r.met ? 'met' : 'MISSED']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [header, '', line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
