// What `hossadm init` asks of a kind: which services of a running Compose
// project it recognises (by image name, or by the hossadm.kind label) and
// how one of them becomes an instance of the kind, its .env entries and the
// notes an operator reads. A kind lists its recognisers next to its parse
// and create; init iterates over them and names no engine itself.
import type { MountFacts, ServiceFacts } from '../core/init/facts.ts';
import type { DockerClient } from '../docker/types.ts';

/** What a recogniser may do while turning one service into an instance. */
export interface RecogniseContext {
  /** The Compose project's name. */
  readonly project: string;
  /** What the recogniser's `ask` learned of this service, when it could be asked. */
  readonly answer: unknown;
  /** Puts a value into the stack's .env under `wanted` (or a service-prefixed name another service took) and returns the name used. */
  setEnv(wanted: string, value: string, secret: boolean): string;
  /** A variable the container's environment sets, as an { env } reference into the .env; `fallback` when unset or empty. */
  ref(variable: string, fallback: unknown, secret: boolean): unknown;
  /** One line the operator should read, after the service's name. */
  note(line: string): void;
}

/** A service recognised as an instance of the recogniser's kind. */
export interface Recognised {
  /** The instance's settings as the kind's parse reads them. */
  config: Record<string, unknown>;
  /** The service's mounts the instance saves: nothing copies them again as files. */
  claims: readonly (MountFacts | undefined)[];
  /** What the instance saves, for the note, e.g. "one RDB of every database". */
  saves: string;
}

export interface ServiceRecogniser {
  /** What init calls such a service, e.g. "search-opensearch". */
  readonly name: string;
  /** How notes name the server, e.g. "Redis", "an S3 server". */
  readonly title: string;
  /** Image names (registry, namespace and tag taken off) it recognises: one of `images` matches and none of `notImages`. */
  readonly images: readonly RegExp[];
  readonly notImages?: readonly RegExp[];
  /** Values of the hossadm.kind label that name it, whatever the image. */
  readonly labels: readonly string[];
  /** Asks a running service what its container does not show; the answers reach `plan` as `answer`, and InitOptions under `question`. */
  readonly ask?: {
    readonly question: string;
    run(service: ServiceFacts, docker: DockerClient): Promise<unknown>;
  };
  /**
   * The instance; undefined (after a note saying what is missing) when its data is copied as files instead.
   * A recogniser without `plan` only names the server: its data is always copied as files, and `asFiles` says why.
   */
  plan?(service: ServiceFacts, ctx: RecogniseContext): Recognised | undefined;
  /** Without `plan`: the rest of the note, e.g. "its data is copied as files while it is stopped". */
  readonly asFiles?: string;
}

/** The service's bind mount at a path in the container. */
export const bindAt = (s: ServiceFacts, destination: string): MountFacts | undefined =>
  s.mounts.find((m) => m.type === 'bind' && m.destination === destination);

/** The service's mount of any type at a path in the container. */
export const mountAt = (s: ServiceFacts, destination: string): MountFacts | undefined => s.mounts.find((m) => m.destination === destination);
