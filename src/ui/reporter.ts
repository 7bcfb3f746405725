// Progress goes to stderr so stdout carries only results (text or --json).
// Components report through this interface and never know whether a spinner,
// plain lines, JSON lines (--json) or nothing is shown.
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '../core/human-units.ts';

export interface StepHandle {
  /** Replaces the detail shown after the step's label (what is awaited). */
  update(detail: string): void;
  /** Bytes moved so far in a long copy, of about `total` when it is known: shown with throughput and time left. */
  progress(bytes: number, total?: number): void;
}

/** What a progress report says: the same facts on a terminal and in --json lines. */
export interface ProgressFacts {
  bytes: number;
  /** Expected bytes, when known (an estimate: counted before the copy, or from the archive's record). */
  total: number | undefined;
  /** Average since the copy started; undefined before there is anything to average. */
  bytesPerSecond: number | undefined;
  /** undefined when the total or the throughput is unknown. */
  etaSeconds: number | undefined;
}

export function progressFacts(bytes: number, total: number | undefined, startedAt: number, now: number): ProgressFacts {
  const elapsed = (now - startedAt) / 1000;
  const bytesPerSecond = elapsed > 0 && bytes > 0 ? bytes / elapsed : undefined;
  // An estimated total can be passed; the copy is then nearly done, not overdue.
  const known = total !== undefined && total > 0 ? Math.max(total, bytes) : undefined;
  const etaSeconds = known !== undefined && bytesPerSecond ? Math.round((known - bytes) / bytesPerSecond) : undefined;
  return { bytes, total: known, bytesPerSecond: bytesPerSecond === undefined ? undefined : Math.round(bytesPerSecond), etaSeconds };
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/** "1.2 GB of ~3.4 GB (35%), 85.0 MB/s, 0:26 left" */
export function describeProgress(facts: ProgressFacts): string {
  const parts = [
    facts.total === undefined
      ? formatBytes(facts.bytes)
      : `${formatBytes(facts.bytes)} of ~${formatBytes(facts.total)} (${Math.floor((facts.bytes / facts.total) * 100)}%)`,
  ];
  if (facts.bytesPerSecond !== undefined) parts.push(`${formatBytes(facts.bytesPerSecond)}/s`);
  if (facts.etaSeconds !== undefined) parts.push(`${clock(facts.etaSeconds)} left`);
  return parts.join(', ');
}

/** Calls `emit` at most every `intervalMs` (the first report always passes). */
function throttled(intervalMs: number, now: () => number, emit: (bytes: number, total: number | undefined) => void): (bytes: number, total?: number) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (bytes, total) => {
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    emit(bytes, total);
  };
}

export interface Reporter {
  /** Runs one step, showing it as running, then done (with the summary returned by `done`) or failed. */
  step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

function seconds(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}

/** ora on a terminal; one line per step when stderr is a file or a pipe. */
export class ConsoleReporter implements Reporter {
  private readonly stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
  }

  async step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T> {
    const startedAt = Date.now();
    const interactive = Boolean(this.stream.isTTY);
    // ora (and what it imports) loads only when a terminal shows a spinner: cron and scripts never pay for it.
    const spinner = interactive ? (await import('ora')).default({ text: label, stream: this.stream }).start() : undefined;
    if (!interactive) this.stream.write(`… ${label}\n`);
    const handle: StepHandle = {
      update: (detail) => {
        if (spinner) spinner.text = `${label}: ${detail}`;
      },
      // Only a terminal shows progress; a log file gets the step's summary line.
      progress: throttled(250, Date.now, (bytes, total) => {
        if (spinner) spinner.text = `${label}: ${describeProgress(progressFacts(bytes, total, startedAt, Date.now()))}`;
      }),
    };
    try {
      const result = await work(handle);
      const summary = done ? `: ${done(result)}` : '';
      const line = `${label}${summary} (${seconds(startedAt)})`;
      if (spinner) spinner.succeed(line);
      else this.stream.write(`✔ ${line}\n`);
      return result;
    } catch (error) {
      const line = `${label} failed after ${seconds(startedAt)}`;
      if (spinner) spinner.fail(line);
      else this.stream.write(`✖ ${line}\n`);
      throw error;
    }
  }

  info(message: string): void {
    this.stream.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stream.write(`⚠ ${message}\n`);
  }
}

/** For --quiet and for tests: runs the work, shows nothing, remembers the lines. */
export class SilentReporter implements Reporter {
  readonly lines: string[] = [];

  async step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T> {
    const result = await work({ update: () => undefined, progress: () => undefined });
    this.lines.push(done ? `${label}: ${done(result)}` : label);
    return result;
  }

  info(message: string): void {
    this.lines.push(message);
  }

  warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
}

/**
 * --json: every fact as one JSON object per line on stderr, for machines:
 * {"event":"step","step":...,"status":"started"|"done"|"failed",...},
 * {"event":"progress","step":...,"bytes":...,"total":...,"bytesPerSecond":...,"etaSeconds":...},
 * {"event":"info"|"warning","message":...}. stdout keeps the result alone.
 */
export class JsonLinesReporter implements Reporter {
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly intervalMs: number;

  constructor(write: (line: string) => void = (line) => process.stderr.write(line), now: () => number = Date.now, intervalMs = 1000) {
    this.write = write;
    this.now = now;
    this.intervalMs = intervalMs;
  }

  private emit(record: Record<string, unknown>): void {
    this.write(`${JSON.stringify({ time: new Date(this.now()).toISOString(), ...record })}\n`);
  }

  async step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T> {
    const startedAt = this.now();
    const seconds = () => Math.round((this.now() - startedAt) / 100) / 10;
    this.emit({ event: 'step', step: label, status: 'started' });
    const handle: StepHandle = {
      update: (detail) => this.emit({ event: 'step', step: label, status: 'running', detail }),
      progress: throttled(this.intervalMs, this.now, (bytes, total) => {
        const facts = progressFacts(bytes, total, startedAt, this.now());
        this.emit({
          event: 'progress',
          step: label,
          bytes: facts.bytes,
          total: facts.total ?? null,
          bytesPerSecond: facts.bytesPerSecond ?? null,
          etaSeconds: facts.etaSeconds ?? null,
        });
      }),
    };
    try {
      const result = await work(handle);
      this.emit({ event: 'step', step: label, status: 'done', seconds: seconds(), ...(done ? { summary: done(result) } : {}) });
      return result;
    } catch (error) {
      this.emit({ event: 'step', step: label, status: 'failed', seconds: seconds() });
      throw error;
    }
  }

  info(message: string): void {
    this.emit({ event: 'info', message });
  }

  warn(message: string): void {
    this.emit({ event: 'warning', message });
  }
}

/** `input` passed through unchanged, its bytes so far reported to `handle` (errors travel both ways). */
export function countingStream(input: Readable, handle: StepHandle, total?: number): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      handle.progress(bytes, total);
      done(null, chunk);
    },
  });
  // A failure on either side destroys the other, so the consumer sees it.
  pipeline(input, counter).catch(() => undefined);
  return counter;
}
