// One timed part of a stack's seed: its failure names the part, its success
// says how long it took. Every reference stack's seed runs its parts so.
import { asHossError, OperationError } from '../../../src/errors.ts';
import { say } from '../runtime.ts';

export async function seedStep(what: string, work: () => Promise<void>): Promise<void> {
  const t = Date.now();
  try {
    await work();
  } catch (error) {
    const failure = asHossError(error);
    throw new OperationError(`seeding ${what} failed: ${failure.message}`, { cause: error, ...(failure.details ? { details: failure.details } : {}) });
  }
  say(`seeded ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}
