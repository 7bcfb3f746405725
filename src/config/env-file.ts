// Reads and writes the stack's .env in the dialect Docker Compose accepts:
// KEY=VALUE lines, # comments, optional single or double quotes. Order and
// comments are kept on rewrite because operators edit this file by hand.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';

export type EnvMap = Record<string, string>;

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

function unquote(raw: string): string {
  const value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  // An unquoted value ends at " #", as in Compose.
  const comment = value.search(/\s#/);
  return (comment >= 0 ? value.slice(0, comment) : value).trim();
}

export function parseEnv(text: string, source = '.env'): EnvMap {
  const env: EnvMap = {};
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const match = LINE.exec(line);
    if (!match) {
      throw new ConfigError(`${source}:${index + 1} is not a KEY=VALUE line`, {
        hint: `fix or remove line ${index + 1} of ${source}`,
      });
    }
    env[match[1]!] = unquote(match[2]!);
  });
  return env;
}

export async function readEnvFile(path: string): Promise<EnvMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`no stack configuration at ${path}`, {
        hint: 'set HOSS_DIR or --config-dir to the folder holding the stack\'s .env',
        cause: error,
      });
    }
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseEnv(text, path);
}

/** Replaces or appends KEY=VALUE lines, keeping every other line as it was. */
export function updateEnvText(text: string, changes: EnvMap): string {
  const pending = new Map(Object.entries(changes));
  const lines = text.split('\n').map((line) => {
    const match = LINE.exec(line);
    if (match && pending.has(match[1]!)) {
      const value = pending.get(match[1]!)!;
      pending.delete(match[1]!);
      return `${match[1]}=${value}`;
    }
    return line;
  });
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [key, value] of pending) lines.push(`${key}=${value}`);
  return `${lines.join('\n')}\n`;
}
