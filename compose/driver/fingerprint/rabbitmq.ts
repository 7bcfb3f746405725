// RabbitMQ compared logically: vhosts, users, exchanges, queues (durability
// and message counts) and bindings as the broker reports them, not the
// mnesia and message-store files it rewrites on every start.
import { OperationError } from '../../../src/errors.ts';
import type { StackContext } from '../context.ts';
import { execIn } from '../services/containers.ts';
import { byCodeUnit } from './canonical.ts';

export interface QueueFingerprint {
  durable: boolean;
  auto_delete: boolean;
  messages: number;
}

export interface RabbitFingerprint {
  vhosts: string[];
  users: Record<string, string>;
  exchanges: Record<string, string>;
  queues: Record<string, QueueFingerprint>;
  bindings: string[];
}

// One exec, one marker line per listing: each rabbitmqctl call starts an
// Erlang VM, so fewer execs matter more than fewer calls would suggest.
const SCRIPT = `
set -e
echo '#vhosts'; rabbitmqctl -q list_vhosts name --formatter json
echo '#users'; rabbitmqctl -q list_users --formatter json
echo '#exchanges'; rabbitmqctl -q list_exchanges name type durable auto_delete internal --formatter json
echo '#queues'; rabbitmqctl -q list_queues name durable auto_delete messages --formatter json
echo '#bindings'; rabbitmqctl -q list_bindings source_name destination_name destination_kind routing_key --formatter json
`;

type Row = Record<string, unknown>;

export function splitSections(output: string): Record<string, Row[]> {
  const sections: Record<string, Row[]> = {};
  let current: string | undefined;
  let buffer = '';
  const flush = () => {
    if (current !== undefined) sections[current] = buffer.trim() ? (JSON.parse(buffer) as Row[]) : [];
  };
  for (const line of output.split('\n')) {
    const marker = /^#(\w+)$/.exec(line.trim());
    if (marker) {
      flush();
      current = marker[1]!;
      buffer = '';
    } else buffer += `${line}\n`;
  }
  flush();
  return sections;
}

function tags(value: unknown): string {
  const list = Array.isArray(value) ? value.map(String) : String(value ?? '').replace(/[[\]]/g, '').split(/[,\s]+/);
  return list.filter(Boolean).sort(byCodeUnit).join(' ');
}

export function rabbitFingerprintFrom(sections: Record<string, Row[]>): RabbitFingerprint {
  const result: RabbitFingerprint = { vhosts: [], users: {}, exchanges: {}, queues: {}, bindings: [] };
  result.vhosts = (sections.vhosts ?? []).map((v) => String(v.name)).sort(byCodeUnit);
  for (const u of sections.users ?? []) result.users[String(u.user)] = tags(u.tags);
  for (const e of sections.exchanges ?? []) {
    const name = String(e.name);
    // The default and amq.* exchanges exist in every broker.
    if (name === '' || name.startsWith('amq.')) continue;
    result.exchanges[name] = [e.type, e.durable ? 'durable' : 'transient', e.auto_delete ? 'auto-delete' : '', e.internal ? 'internal' : ''].filter(Boolean).join(' ');
  }
  for (const q of sections.queues ?? []) {
    result.queues[String(q.name)] = { durable: Boolean(q.durable), auto_delete: Boolean(q.auto_delete), messages: Number(q.messages ?? 0) };
  }
  result.bindings = (sections.bindings ?? [])
    .filter((b) => String(b.source_name) !== '')
    .map((b) => `${b.source_name} -> ${b.destination_kind}:${b.destination_name} [${b.routing_key}]`)
    .sort(byCodeUnit);
  return result;
}

export async function fingerprintRabbitMq(ctx: StackContext): Promise<RabbitFingerprint> {
  const output = await execIn(ctx, 'rabbitmq', ['sh', '-c', SCRIPT]);
  try {
    return rabbitFingerprintFrom(splitSections(output));
  } catch (error) {
    throw new OperationError(`cannot read rabbitmqctl's listing: ${(error as Error).message}`, { details: output.slice(0, 2000) });
  }
}
