// One hossadm run, measured from outside as an operator would see it: the
// wall time of the CLI process, its peak resident memory (VmHWM of the node
// process, read from /proc while it runs), its CPU seconds, the peak of
// what BACKUP_ROOT occupies above where it started, and the steps it
// printed with their times and the memory each reached.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { BenchStack } from './stack.ts';

export interface Step {
  label: string;
  seconds: number;
  /** Highest VmRSS sampled while the step ran. */
  peakRssBytes: number;
}

export interface HossadmRun {
  seconds: number;
  /** user and system seconds of the hossadm process, all its threads (not the containers' work). */
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssBytes: number;
  peakExtraDiskBytes: number;
  steps: Step[];
  result: Record<string, unknown>;
}

interface ProcSample {
  hwm: number;
  rss: number;
  user: number;
  system: number;
}

const TICKS = 100;

async function sample(pid: number): Promise<ProcSample | undefined> {
  const [status, stat] = await Promise.all([
    readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined),
    readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined),
  ]);
  const hwm = status ? /^VmHWM:\s+(\d+) kB$/m.exec(status) : null;
  const rss = status ? /^VmRSS:\s+(\d+) kB$/m.exec(status) : null;
  if (!hwm || !rss || !stat) return undefined;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { hwm: Number(hwm[1]) * 1024, rss: Number(rss[1]) * 1024, user: Number(fields[11]) / TICKS, system: Number(fields[12]) / TICKS };
}

/**
 * Progress lines on stderr, each with the time it arrived: with --json one
 * JSON object per line (`{"event":"step","step":…,"status":"done","seconds":…}`),
 * otherwise "✔ label: summary (12.3s)".
 */
export function parseSteps(lines: ReadonlyArray<{ at: number; text: string }>): Array<{ label: string; seconds: number; end: number }> {
  const steps: Array<{ label: string; seconds: number; end: number }> = [];
  for (const { at, text } of lines) {
    if (text.startsWith('{')) {
      let record: { event?: unknown; step?: unknown; status?: unknown; seconds?: unknown };
      try {
        record = JSON.parse(text) as typeof record;
      } catch {
        continue;
      }
      if (record.event === 'step' && record.status === 'done' && typeof record.step === 'string' && typeof record.seconds === 'number') {
        steps.push({ label: record.step, seconds: record.seconds, end: at });
      }
      continue;
    }
    const match = /^✔ (.*?)(?:: .*)? \((\d+(?:\.\d+)?)s\)$/.exec(text);
    if (match) steps.push({ label: match[1]!, seconds: Number(match[2]), end: at });
  }
  return steps;
}

/** Step labels without what changes run to run (project, paths, snapshot names), so runs can be compared. */
export function stableLabel(label: string, project: string): string {
  return label.split(`${project}_`).join('').replace(/\/\S+/g, '<path>').replace(/hoss-snap-\S+/g, '<snapshot>');
}

/** Runs `hossadm [--profile P --config-dir DIR] --yes --json <args>` (the compiled CLI, as operators run it) on the bench stack. */
export async function runHossadm(stack: BenchStack, args: string[]): Promise<HossadmRun> {
  const baseline = await BenchStack.allocated(stack.backupRoot);
  const started = performance.now();
  const child = spawn(process.execPath, [stack.cli, ...stack.cliOptions(), '--yes', '--json', ...args], { env: stack.childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let pending = '';
  const lines: Array<{ at: number; text: string }> = [];
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    pending += c.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const text of parts) lines.push({ at: performance.now(), text });
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  let done = false;
  let last: ProcSample = { hwm: 0, rss: 0, user: 0, system: 0 };
  const timeline: Array<{ at: number; rss: number }> = [];
  let peakDisk = baseline;
  // VmHWM and CPU time only grow, so their last reading before exit is the
  // total; the folder is walked as often as a walk allows (a few hundred files).
  const processPoll = (async () => {
    while (!done) {
      const now = await sample(child.pid!);
      if (now) {
        last = now;
        timeline.push({ at: performance.now(), rss: now.rss });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const diskPoll = (async () => {
    while (!done) {
      peakDisk = Math.max(peakDisk, await BenchStack.allocated(stack.backupRoot));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const code = await exited;
  const seconds = (performance.now() - started) / 1000;
  done = true;
  await Promise.all([processPoll, diskPoll]);
  if (pending) lines.push({ at: performance.now(), text: pending });
  if (code !== 0) throw new Error(`hossadm ${args.join(' ')} exited ${code}\n${lines.map((l) => l.text).join('\n').slice(-4000)}`);
  const steps = parseSteps(lines).map(({ label, seconds: s, end }) => {
    const inside = timeline.filter((p) => p.at >= end - s * 1000 - 100 && p.at <= end + 100);
    return { label: stableLabel(label, stack.project), seconds: s, peakRssBytes: Math.max(0, ...inside.map((p) => p.rss)) };
  });
  return {
    seconds,
    cpuSeconds: Math.round((last.user + last.system) * 100) / 100,
    userSeconds: last.user,
    systemSeconds: last.system,
    peakRssBytes: last.hwm,
    peakExtraDiskBytes: peakDisk - baseline,
    steps,
    result: JSON.parse(stdout) as Record<string, unknown>,
  };
}
