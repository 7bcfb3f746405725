// Where a profile's settings get their values: a literal template
// ("${BACKUP_ROOT}/.db", "${VAR}" from the stack's .env), a variable of the
// .env ({ "env": "POSTGRES_PASSWORD" }), or a file ({ "file": "secrets/pw" },
// relative to the config folder). Profiles hold these references; the
// values are read when a run resolves the profile against a stack.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { EnvMap } from './env-file.ts';
import { object, text } from './shape.ts';

export type ValueRef = string | { env: string } | { file: string };

export function parseValueRef(value: unknown, at: string): ValueRef {
  if (typeof value === 'string') return text(value, at);
  const ref = object(value, at);
  const keys = Object.keys(ref);
  if (keys.length === 1 && keys[0] === 'env') return { env: text(ref.env, `${at}.env`) };
  if (keys.length === 1 && keys[0] === 'file') return { file: text(ref.file, `${at}.file`) };
  throw new ConfigError(`stack profile: "${at}" must be a string, { "env": NAME } or { "file": PATH }`);
}

export function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

/** Replaces ${VAR}; undefined when a variable it names is unset or empty. */
export function interpolate(template: string, vars: EnvMap): string | undefined {
  let missing = false;
  const out = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

/** Resolves references against one stack: its .env plus the names a profile may use in templates. */
export class Values {
  /** The .env's values plus the config folder's variable, HOME and BACKUP_ROOT. */
  readonly vars: EnvMap;
  readonly configDir: string;
  readonly envPath: string;
  readonly home: string;

  constructor(vars: EnvMap, configDir: string, envPath: string, home: string = homedir()) {
    this.vars = vars;
    this.configDir = configDir;
    this.envPath = envPath;
    this.home = home;
  }

  /** The value, or undefined when the variable, template or file is unset or empty. */
  optional(ref: ValueRef, what: string): string | undefined {
    if (typeof ref === 'string') return interpolate(ref, this.vars) || undefined;
    if ('env' in ref) return this.vars[ref.env] || undefined;
    const path = resolve(this.configDir, expandHome(ref.file, this.home));
    try {
      return readFileSync(path, 'utf8').replace(/\r?\n$/, '') || undefined;
    } catch (error) {
      throw new ConfigError(`cannot read ${what} from ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        hint: `create ${path} or change the profile's reference`,
      });
    }
  }

  required(ref: ValueRef, what: string): string {
    const value = this.optional(ref, what);
    if (value !== undefined) return value;
    if (typeof ref === 'object' && 'env' in ref) throw new ConfigError(`${this.envPath} does not set ${ref.env}`, { hint: `add ${ref.env}=... to ${this.envPath}` });
    const name = typeof ref === 'string' ? ref : ref.file;
    throw new ConfigError(`${what} is not set (${name} is empty or names an unset variable)`, { hint: `set the variables it names in ${this.envPath}` });
  }

  /** An absolute host path, or undefined when unset. */
  path(ref: ValueRef, what: string): string | undefined {
    const value = this.optional(ref, what);
    if (value === undefined) return undefined;
    const expanded = expandHome(value, this.home);
    if (!isAbsolute(expanded)) {
      throw new ConfigError(`${what} must be an absolute path, got "${value}"`, { hint: `set it to an absolute path in ${this.envPath}` });
    }
    return expanded;
  }
}
