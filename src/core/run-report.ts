// Tells the outside world how a run went: webhook pings (start, then fail,
// or success when asked) and a Prometheus metrics file. It wraps a command's
// work and reports its outcome, never changes it: whatever the work throws
// is thrown on unchanged, and a report that cannot be made is a warning.
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { type RunMetrics, writeMetricsFile } from './metrics-file.ts';
import { DEFAULT_PING_OPTIONS, type PingEvent, type PingOptions, sendPing } from './webhook.ts';

export interface RunReportSettings {
  /** Webhook base URL (healthchecks.io style); none: no pings. */
  notifyUrl?: URL | undefined;
  /** Ping <url> on success too (a failure is always pinged). */
  notifySuccess: boolean;
  /** Prometheus textfile to update; none: no metrics. */
  metricsFile?: string | undefined;
}

/** What the run is, as the reports name it. */
export interface RunIdentity {
  command: string;
  /** The Compose project. */
  stack: string;
  profile: string;
  version: string;
}

/** What a successful run made, when it made an archive. */
export interface RunFacts {
  archive?: string | undefined;
  bytes?: number | undefined;
  members?: number | undefined;
  downtimeSeconds?: number | undefined;
}

export interface RunReportDeps {
  warn: (message: string) => void;
  /** The exit code the process will have for this error. */
  exitCodeOf: (error: unknown) => number;
  now?: () => number;
  ping?: PingOptions;
}

/** The first line of an error's message, short enough for a chat message or a ping body. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n', 1)[0]!.trim();
  return first.length > 300 ? `${first.slice(0, 299)}…` : first;
}

export async function reportRun(settings: RunReportSettings, identity: RunIdentity, deps: RunReportDeps, work: () => Promise<RunFacts | undefined>): Promise<void> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const base = { command: identity.command, stack: identity.stack, profile: identity.profile, host: hostname(), version: identity.version };
  const ping = async (event: PingEvent, body: object) => {
    if (!settings.notifyUrl) return;
    const problem = await sendPing(settings.notifyUrl, event, { event, ...base, ...body }, deps.ping ?? DEFAULT_PING_OPTIONS);
    if (problem) deps.warn(problem);
  };
  await ping('start', { startedAt: new Date(startedAt).toISOString() });

  let facts: RunFacts | undefined;
  let failure: { error: unknown } | undefined;
  try {
    facts = await work();
  } catch (error) {
    failure = { error };
  }
  const endedAt = now();
  const exitCode = failure ? deps.exitCodeOf(failure.error) : 0;
  const durationSeconds = Math.round((endedAt - startedAt) / 100) / 10;

  if (settings.metricsFile) {
    const run: RunMetrics = {
      stack: identity.stack,
      command: identity.command,
      endedAt: Math.round(endedAt / 1000),
      succeeded: !failure,
      exitCode,
      durationSeconds,
      archiveBytes: facts?.bytes,
      archiveMembers: facts?.members,
      downtimeSeconds: facts?.downtimeSeconds,
    };
    await writeMetricsFile(settings.metricsFile, run).catch((error: unknown) =>
      deps.warn(`the metrics file ${settings.metricsFile} was not written (${(error as NodeJS.ErrnoException).code ?? oneLine(error)})`),
    );
  }
  if (failure || settings.notifySuccess) {
    await ping(failure ? 'fail' : 'success', {
      exitCode,
      ...(failure ? { error: oneLine(failure.error) } : {}),
      durationSeconds,
      ...(facts?.archive ? { archive: basename(facts.archive) } : {}),
      ...(facts?.bytes !== undefined ? { bytes: facts.bytes } : {}),
      ...(facts?.members !== undefined ? { members: facts.members } : {}),
      ...(facts?.downtimeSeconds !== undefined ? { downtimeSeconds: facts.downtimeSeconds } : {}),
    });
  }
  if (failure) throw failure.error;
}
