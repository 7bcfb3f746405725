// The outcome of runs as Prometheus text exposition format, for
// node_exporter's textfile collector. One file may serve several stacks and
// commands: each run replaces only its own series ({stack, command}) and
// keeps the others. The file is replaced atomically (written beside it as
// "<name>.partial", which the collector ignores since it reads only *.prom),
// so a scrape never sees half of it.
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../archive/atomic-file.ts';

export interface RunMetrics {
  stack: string;
  command: string;
  /** Unix time in seconds. */
  endedAt: number;
  succeeded: boolean;
  exitCode: number;
  durationSeconds: number;
  archiveBytes?: number | undefined;
  archiveMembers?: number | undefined;
  downtimeSeconds?: number | undefined;
}

/** The metrics in the order written; `kept` ones keep their last value when a run has none (a failed run makes no archive). */
const METRICS = [
  { name: 'hossadm_last_run_timestamp_seconds', help: 'When the last run ended (Unix time), whatever its outcome.', kept: false },
  { name: 'hossadm_last_success_timestamp_seconds', help: 'When the last successful run ended (Unix time); 0 if none has succeeded yet.', kept: true },
  { name: 'hossadm_last_exit_code', help: 'Exit code of the last run (0 success; see hossadm --help).', kept: false },
  { name: 'hossadm_duration_seconds', help: 'How long the last run took, in seconds.', kept: false },
  { name: 'hossadm_archive_bytes', help: 'Size in bytes of the archive the last successful run made.', kept: true },
  { name: 'hossadm_archive_members', help: 'Members in the archive the last successful run made.', kept: true },
  { name: 'hossadm_downtime_seconds', help: 'Seconds the writing services were stopped during the last successful run.', kept: true },
] as const;

type MetricName = (typeof METRICS)[number]['name'];

/** Metric name -> label set as written ({stack="…",command="…"}) -> value as written. */
export type MetricSeries = Map<string, Map<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function seriesLabels(stack: string, command: string): string {
  return `{stack="${escapeLabel(stack)}",command="${escapeLabel(command)}"}`;
}

/** One sample line split into name, label set (braces included, as written) and value; undefined for anything else. */
function splitSample(line: string): { name: string; labels: string; value: string } | undefined {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) return undefined;
  let end = name.length;
  if (line[end] === '{') {
    let quoted = false;
    for (end += 1; end < line.length; end += 1) {
      const c = line[end];
      if (quoted && c === '\\') end += 1;
      else if (c === '"') quoted = !quoted;
      else if (c === '}' && !quoted) break;
    }
    if (end >= line.length) return undefined;
    end += 1;
  }
  const value = line.slice(end).trim().split(/\s+/)[0];
  return value ? { name, labels: line.slice(name.length, end), value } : undefined;
}

/** The hossadm series of a file this module wrote; lines of other metrics are dropped. */
export function readSeries(text: string): MetricSeries {
  const known = new Set<string>(METRICS.map((m) => m.name));
  const series: MetricSeries = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sample = splitSample(line);
    if (!sample || !known.has(sample.name)) continue;
    if (!series.has(sample.name)) series.set(sample.name, new Map());
    series.get(sample.name)!.set(sample.labels, sample.value);
  }
  return series;
}

/** The series after one run: this run's values replace its own series; `kept` metrics keep the last value when this run has none. */
export function withRun(previous: MetricSeries, run: RunMetrics): MetricSeries {
  const labels = seriesLabels(run.stack, run.command);
  const values: Record<MetricName, number | undefined> = {
    hossadm_last_run_timestamp_seconds: run.endedAt,
    hossadm_last_success_timestamp_seconds: run.succeeded ? run.endedAt : undefined,
    hossadm_last_exit_code: run.exitCode,
    hossadm_duration_seconds: run.durationSeconds,
    hossadm_archive_bytes: run.succeeded ? run.archiveBytes : undefined,
    hossadm_archive_members: run.succeeded ? run.archiveMembers : undefined,
    hossadm_downtime_seconds: run.succeeded ? run.downtimeSeconds : undefined,
  };
  const next: MetricSeries = new Map();
  for (const metric of METRICS) {
    const samples = new Map(previous.get(metric.name));
    const value = values[metric.name];
    if (value !== undefined) samples.set(labels, String(value));
    else if (metric.name === 'hossadm_last_success_timestamp_seconds' && !samples.has(labels)) samples.set(labels, '0');
    else if (!metric.kept) samples.delete(labels);
    if (samples.size > 0) next.set(metric.name, samples);
  }
  return next;
}

export function renderMetrics(series: MetricSeries): string {
  const lines: string[] = [];
  for (const metric of METRICS) {
    const samples = series.get(metric.name);
    if (!samples?.size) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const labels of [...samples.keys()].sort()) lines.push(`${metric.name}${labels} ${samples.get(labels)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Replaces this run's series in the file at `path`, keeping the others.
 * Mode 0644: node_exporter usually runs as another user, and nothing here
 * is secret. Runs writing one file at the same moment may drop each other's
 * update (each file is still whole); their next runs write it again.
 */
export async function writeMetricsFile(path: string, run: RunMetrics): Promise<void> {
  const previous = await readFile(path, 'utf8').then(readSeries, (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return new Map() as MetricSeries;
    throw error;
  });
  const text = renderMetrics(withRun(previous, run));
  await writeFileAtomically(path, (handle) => handle.writeFile(text), { mode: 0o644, overwrite: true });
}
