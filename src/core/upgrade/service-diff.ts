// Which services an upgrade changes, from Compose's own rendering of the
// stack before and after: pure, so that the plan is unit-tested.
import type { RenderedServices } from '../../docker/compose-config.ts';

export interface ServiceChange {
  service: string;
  kind: 'added' | 'removed' | 'changed';
  /** "image hoss/core:0.2.13 -> hoss/core:0.3.0", "environment.HOSS_VERSION 0.2.13 -> 0.3.0", ... */
  changes: string[];
}

/** Every leaf of a service's settings as "a.b.c" -> its value in JSON; lists are compared whole. */
function flatten(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

function shown(value: string | undefined): string {
  if (value === undefined) return '(unset)';
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

export function diffServices(before: RenderedServices, after: RenderedServices): ServiceChange[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: ServiceChange[] = [];
  for (const service of names) {
    const old = before[service];
    const now = after[service];
    if (!old) {
      out.push({ service, kind: 'added', changes: [`image ${shown(now!.image as string | undefined)}`] });
      continue;
    }
    if (!now) {
      out.push({ service, kind: 'removed', changes: [] });
      continue;
    }
    const a = flatten(old, '', new Map());
    const b = flatten(now, '', new Map());
    // The image first: it is what an operator looks for.
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => Number(y === 'image') - Number(x === 'image') || x.localeCompare(y));
    const changes = keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k} ${shown(a.get(k))} -> ${shown(b.get(k))}`);
    if (changes.length > 0) out.push({ service, kind: 'changed', changes });
  }
  return out;
}
