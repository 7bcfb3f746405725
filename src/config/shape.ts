// Checks of JSON data read from profiles: each names the JSON path of the
// value at fault, so an operator editing a profile is told exactly where.
import { ConfigError } from '../errors.ts';

export type Json = Record<string, unknown>;

function fail(at: string, expected: string): never {
  throw new ConfigError(`stack profile: "${at}" must be ${expected}`);
}

export function object(value: unknown, at: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, 'an object');
  return value as Json;
}

export function text(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') fail(at, 'a non-empty string');
  return value;
}

export function optionalText(value: unknown, at: string): string | undefined {
  return value === undefined ? undefined : text(value, at);
}

export function number(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, 'a number');
  return value;
}

export function bool(value: unknown, at: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(at, 'true or false');
  return value;
}

/** A list of strings; empty strings only where they mean something (an argv's empty argument). */
export function textList(value: unknown, at: string, allowEmpty = false): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && (allowEmpty || v !== ''))) fail(at, allowEmpty ? 'a list of strings' : 'a list of non-empty strings');
  return value as string[];
}

export function oneOf<T extends string>(value: unknown, at: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T)) fail(at, `one of ${choices.join(', ')}`);
  return value as T;
}

/** Refuses keys a kind does not know: a typo must not silently mean "the default". */
export function onlyKeys(value: Json, at: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`stack profile: "${at}.${key}" is not a setting of this kind (known: ${known.join(', ')})`);
  }
}
