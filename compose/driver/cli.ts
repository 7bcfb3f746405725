// The driver's command line: a verb and, for seed, --scale N. Anything else
// is a usage error naming what was wrong.
import { UsageError } from '../../src/errors.ts';

export const VERBS = ['up', 'seed', 'fingerprint', 'reset', 'down'] as const;
export type Verb = (typeof VERBS)[number];

export interface Command {
  verb: Verb;
  scale: number;
}

export const USAGE = `usage: compose/stack ${VERBS.join('|')} (seed takes --scale N)`;

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
