// The driver's command line: [--stack hoss|thehive|cybersift|wire|offsite] [--dir DIR], a verb and,
// for seed, --scale N. Anything else is a usage error naming what was wrong.
import { UsageError } from '../../src/errors.ts';

export const STACKS = ['hoss', 'thehive', 'cybersift', 'wire', 'offsite'] as const;
export type StackName = (typeof STACKS)[number];

export const VERBS = ['up', 'seed', 'fingerprint', 'reset', 'down'] as const;
export type Verb = (typeof VERBS)[number];

export interface Command {
  verb: Verb;
  scale: number;
}

export const USAGE = `usage: compose/stack [--stack ${STACKS.join('|')}] [--dir DIR] ${VERBS.join('|')} (seed takes --scale N)`;

export const MAX_SCALE = 1000;

function parseScale(raw: string | undefined): number {
  if (raw === undefined || raw === '') throw new UsageError('--scale needs a value: a whole number from 1 to 1000');
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_SCALE) {
    throw new UsageError(`bad --scale "${raw}": expected a whole number from 1 to ${MAX_SCALE}`);
  }
  return Number(raw);
}

export function parseCommand(argv: readonly string[]): Command {
  const [verb, ...rest] = argv;
  if (verb === undefined) throw new UsageError(`no verb given; ${USAGE}`);
  if (!(VERBS as readonly string[]).includes(verb)) throw new UsageError(`unknown verb "${verb}"; expected one of ${VERBS.join(', ')}`);
  let scale = 1;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (verb === 'seed' && arg === '--scale') {
      scale = parseScale(rest[++i]);
    } else if (verb === 'seed' && arg.startsWith('--scale=')) {
      scale = parseScale(arg.slice('--scale='.length));
    } else {
      throw new UsageError(`unexpected argument "${arg}" for ${verb}; ${USAGE}`);
    }
  }
  return { verb: verb as Verb, scale };
}

export interface Invocation {
  stack: StackName;
  /** --dir: the stack folder, over HOSS_DIR / THEHIVE_DIR / CYBERSIFT_DIR / WIRE_DIR. */
  dir: string | undefined;
  command: Command;
}

/** Takes --stack and --dir (anywhere on the line, `--x V` or `--x=V`), then parses the rest as before. */
export function parseInvocation(argv: readonly string[]): Invocation {
  let stack: StackName = 'hoss';
  let dir: string | undefined;
  const rest: string[] = [];
  const value = (name: string, raw: string | undefined): string => {
    if (raw === undefined || raw === '') throw new UsageError(`${name} needs a value; ${USAGE}`);
    return raw;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let raw: string | undefined;
    let name: '--stack' | '--dir' | undefined;
    if (arg === '--stack' || arg === '--dir') {
      name = arg;
      raw = value(arg, argv[++i]);
    } else if (arg.startsWith('--stack=') || arg.startsWith('--dir=')) {
      name = arg.startsWith('--stack=') ? '--stack' : '--dir';
      raw = value(name, arg.slice(name.length + 1));
    }
    if (name === '--stack') {
      if (!(STACKS as readonly string[]).includes(raw!)) throw new UsageError(`unknown stack "${raw}"; expected one of ${STACKS.join(', ')}`);
      stack = raw as StackName;
    } else if (name === '--dir') {
      dir = raw;
    } else {
      rest.push(arg);
    }
  }
  return { stack, dir, command: parseCommand(rest) };
}
