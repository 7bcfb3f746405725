// schema.cql of the stand-in, shared with the seed: statements with the
// keyspace filled in.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STANDIN_DIR } from './context.ts';

export async function schemaStatements(keyspace: string): Promise<string[]> {
  const text = (await readFile(join(STANDIN_DIR, 'schema.cql'), 'utf8')).replaceAll('${KEYSPACE}', keyspace);
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function indexDefinition(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(STANDIN_DIR, 'index.json'), 'utf8')) as Record<string, unknown>;
}
