// The bench's command line and its time estimate: pure, so both can be
// checked without a stack.
import { STACK_NAMES, type StackName } from './stack.ts';

export interface Options {
  /** Which stacks, in the order they run. */
  stacks: StackName[];
  scale: number;
  runs: number;
  /** Repetitions at the grown scale, where one costs about three at 1×. */
  grownRuns: number;
  /** The growth factor; undefined: each stack's own default (HOSS 4, the others 1: no growth run). */
  factor: number | undefined;
  /** HOSS only: files in the many-small-files case (0: not measured). */
  files: number;
  out: string | undefined;
}

/** A bad command line: one line, no stack trace, exit 2. */
export class UsageError extends Error {}

export const MANY_FILES_DEFAULT = 200_000;

const STACK_CHOICES = `${STACK_NAMES.join('|')}|all, or several joined by commas`;
export const USAGE = `npm run bench -- [--stack ${STACK_NAMES.join('|')}|all] [--scale N] [--runs R] [--runs-grown R] [--factor F] [--files N] [--out FILE]`;

export function parseStacks(value: string | undefined): StackName[] {
  if (!value) throw new UsageError(`--stack needs a value: ${STACK_CHOICES}`);
  if (value === 'all') return [...STACK_NAMES];
  const names = value.split(',');
  for (const name of names) if (!(STACK_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown stack "${name}" (expected ${STACK_CHOICES})`);
  return [...new Set(names as StackName[])];
}

/**
 * `seedPerScale` and `defaultFactor` per stack bound what the stack seed
 * accepts: scale × factor × seed units per scale must stay ≤ 1000.
 */
export function parseArgs(argv: readonly string[], limits: Record<StackName, { seedPerScale: number; defaultFactor: number }>): Options {
  // Defaults fit the budget of a full run on a shared 2-core machine: a
  // run at 4× costs about three at 1×, so it is measured once unless
  // --runs-grown says more.
  const options: Options = { stacks: ['hoss'], scale: 1, runs: 3, grownRuns: 1, factor: undefined, files: MANY_FILES_DEFAULT, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const whole = (min: number) => {
      const n = Number(value);
      if (value === undefined || value === '' || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs a whole number ≥ ${min}, got "${value}"`);
      i++;
      return n;
    };
    if (flag === '--stack') {
      options.stacks = parseStacks(value);
      i++;
    } else if (flag === '--scale') options.scale = whole(1);
    else if (flag === '--runs') options.runs = whole(1);
    else if (flag === '--runs-grown') options.grownRuns = whole(1);
    else if (flag === '--factor') options.factor = whole(1);
    else if (flag === '--files') options.files = whole(0);
    else if (flag === '--out') {
      if (!value) throw new UsageError('--out needs a file name');
      options.out = value;
      i++;
    } else throw new UsageError(`unknown option ${flag} (usage: ${USAGE})`);
  }
  for (const stack of options.stacks) {
    const { seedPerScale } = limits[stack];
    if (options.scale * factorFor(options, limits[stack]) * seedPerScale > 1000) {
      throw new UsageError(`${stack}: scale × factor × ${seedPerScale} must stay ≤ 1000 (the stack seed limit)`);
    }
  }
  return options;
}

export function factorFor(options: Pick<Options, 'factor'>, target: { defaultFactor: number }): number {
  return options.factor ?? target.defaultFactor;
}

export interface CostModel {
  /** Minutes of one repetition at 1× and of bringing the stack up, seeding it and tearing it down. */
  minutesPerRun: number;
  minutesFixed: number;
  defaultFactor: number;
}

/** Minutes per 10 000 files of the many-small-files case (the fill, then hossadm's backup and restore). */
export const MANY_FILES_MINUTES_PER_10K = 0.2;

/**
 * Minutes the run is expected to take: per stack its fixed cost, the
 * repetitions at 1×, those at the grown scale (a run there costs about
 * factor × 0.75 runs at 1×: the fixed part of each run does not grow), and
 * for HOSS the many-files case.
 */
export function estimateMinutes(options: Options, costs: Record<StackName, CostModel>): Record<StackName | 'total', number> {
  const out = { total: 0 } as Record<StackName | 'total', number>;
  for (const stack of options.stacks) {
    const cost = costs[stack];
    const factor = factorFor(options, cost);
    const perRun = cost.minutesPerRun * options.scale;
    let minutes = cost.minutesFixed + options.runs * perRun;
    if (factor > 1) minutes += options.grownRuns * perRun * factor * 0.75;
    if (stack === 'hoss' && options.files > 0) minutes += (options.files / 10_000) * MANY_FILES_MINUTES_PER_10K;
    out[stack] = Math.round(minutes * 10) / 10;
    out.total += minutes;
  }
  out.total = Math.round(out.total * 10) / 10;
  return out;
}
