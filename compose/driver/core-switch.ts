// The core stand-in's write switch, for tests that need writers running
// (a hot backup) and for checking what they did. The switch is a file in the
// core container, not in any state a backup captures, so a restored or
// restarted stack is always quiet until a test turns writing on again.
import type { StackContext } from './context.ts';
import { execIn } from './services/containers.ts';
import { withDatabase } from './services/postgres.ts';

export const CORE_SWITCH = '/tmp/hoss-core-writing';

export async function setCoreWriting(ctx: StackContext, on: boolean): Promise<void> {
  await execIn(ctx, 'core', on ? ['touch', CORE_SWITCH] : ['rm', '-f', CORE_SWITCH]);
}

export interface CoreLedger {
  /** Sum of all balances: the seeded total unless a copy tore a transfer in half. */
  total: string;
  accounts: number;
  transfers: number;
}

export async function readCoreLedger(ctx: StackContext): Promise<CoreLedger> {
  return withDatabase(ctx, ctx.env.POSTGRES_CORE_DB!, async (client) => {
    const result = await client.query<{ total: string | null; accounts: string; transfers: string }>(
      'SELECT (SELECT sum(balance) FROM accounts)::text AS total, (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM ledger) AS transfers',
    );
    const row = result.rows[0]!;
    return { total: row.total ?? '0', accounts: Number(row.accounts), transfers: Number(row.transfers) };
  });
}
