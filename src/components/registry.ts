// Kinds of component by name, the way restic and kopia register storage
// backends: each kind parses and checks its own settings from a profile and
// creates configured instances. Profiles name kinds; nothing else does.
import { ConfigError } from '../errors.ts';
import type { Values } from '../config/values.ts';
import type { Component } from './component.ts';

export interface ComponentKind<Config = unknown> {
  readonly name: string;
  /** One line: what an instance of this kind saves. */
  readonly summary: string;
  /** Checks a profile's settings for an instance; ConfigError naming the JSON path `at` otherwise. */
  parse(raw: unknown, at: string): Config;
  /** An instance resolved against one stack's values (.env, files). */
  create(id: string, config: Config, values: Values): Component;
}

const kinds = new Map<string, ComponentKind>();

export function registerKind<Config>(kind: ComponentKind<Config>): void {
  if (kinds.has(kind.name)) throw new Error(`component kind ${kind.name} is registered twice`);
  kinds.set(kind.name, kind as ComponentKind);
}

export function kindNamed(name: string, at: string): ComponentKind {
  const kind = kinds.get(name);
  if (!kind) throw new ConfigError(`stack profile: "${at}" names an unknown component kind "${name}" (known: ${[...kinds.keys()].sort().join(', ')})`);
  return kind;
}

export function registeredKinds(): ComponentKind[] {
  return [...kinds.values()];
}
