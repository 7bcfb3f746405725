// Kinds of component by name, the way restic and kopia register storage
// backends: each kind parses and checks its own settings from a profile and
// creates configured instances, and says which running services `hossadm
// init` should make instances of it. Profiles name kinds; nothing else does.
import { ConfigError } from '../errors.ts';
import type { Values } from '../config/values.ts';
import type { Component } from './component.ts';
import type { ServiceRecogniser } from './recogniser.ts';

export interface ComponentKind<Config = unknown> {
  readonly name: string;
  /** One line: what an instance of this kind saves. */
  readonly summary: string;
  /** Checks a profile's settings for an instance; ConfigError naming the JSON path `at` otherwise. */
  parse(raw: unknown, at: string): Config;
  /** An instance resolved against one stack's values (.env, files). */
  create(id: string, config: Config, values: Values): Component;
  /** The servers `hossadm init` recognises as this kind's, tried in registration order. */
  readonly recognisers?: readonly ServiceRecogniser[];
}

/** A recogniser with the kind whose instances it writes. */
export interface KindRecogniser {
  readonly kind: string;
  readonly recogniser: ServiceRecogniser;
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

/** Every registered kind's recognisers, in the order the kinds were registered. */
export function registeredRecognisers(): KindRecogniser[] {
  return [...kinds.values()].flatMap((k) => (k.recognisers ?? []).map((recogniser) => ({ kind: k.name, recogniser })));
}
