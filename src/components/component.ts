// The one interface every stateful part of a stack implements. A profile
// lists configured instances of registered kinds (registry.ts); the backup
// and restore engines run those instances in the profile's order and ask
// them everything engine-specific, so they never name an engine themselves.
import type { Readable } from 'node:stream';
import type { StackConfig } from '../config/stack-config.ts';
import type { Staging } from '../core/staging.ts';
import type { ContainerInfo, DockerClient } from '../docker/types.ts';
import type { Reporter } from '../ui/reporter.ts';
import type { ObjectStoreClient, ObjectStoreSettings } from './objectstore/object-client.ts';

export type ConsistencyMode = 'cold' | 'hot';

/**
 * How a cold backup stops its writers: `per-service`, each only while data
 * it mounts is copied; `stack`, all of them for the whole freeze phase (one
 * point in time across every service).
 */
export type FreezeMode = 'per-service' | 'stack';
export const FREEZE_MODES: readonly FreezeMode[] = ['per-service', 'stack'];

/** What every component may use; everything it touches comes in here. */
export interface RunContext {
  config: StackConfig;
  docker: DockerClient;
  reporter: Reporter;
  runId: string;
  signal: AbortSignal;
  /** The project's containers, as found by compose labels at the start of the run. */
  containers: ContainerInfo[];
  /**
   * Opens the clients instances reach their servers with. Unset in real
   * runs: each kind then opens its own (pg, the OpenSearch client) at the
   * container's address. Unit tests answer with in-memory servers here.
   */
  connect?: {
    /** A Postgres client for these settings, not yet connected. */
    postgres?(settings: { host: string; port: number; user: string; password: string; database: string }): {
      connect(): Promise<unknown>;
      query<R extends Record<string, any> = any>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
      end(): Promise<void>;
    };
    /** A search engine's REST transport at `node` (http://address:port). */
    search?(node: string): {
      request(params: { method: string; path: string; body?: unknown; querystring?: Record<string, string> }): Promise<{ body: unknown }>;
      close(): Promise<void>;
    };
    /** An S3-compatible object store's client for these settings. */
    objectStore?(settings: ObjectStoreSettings): ObjectStoreClient;
  };
}

export interface BackupContext extends RunContext {
  staging: Staging;
  mode: ConsistencyMode;
}

/** Facts a component establishes before anything is stopped or written. */
export interface BackupFacts {
  /** Engine versions, e.g. { postgresServer: "15.10", pgDump: "15.10" }; kept in the instance's manifest record. */
  versions: Record<string, string>;
  /** Bytes the component expects to stage (before compression), for the free-space check. */
  estimatedBytes: number;
}

/**
 * What the restore proves: the same shape is computed at backup time and
 * recomputed from the restored stack, then compared key by key.
 */
export type ContentFingerprint = Record<string, Record<string, number>>;

export interface ComponentRecord {
  /** The instance's kind (format 2; filled from the profile for format-1 archives). */
  kind?: string;
  /** Engine versions at backup time (format 2; format-1 archives carry one table for all, copied here when read). */
  versions?: Record<string, string>;
  /** The component's own notes for the manifest (snapshot name, databases, ...). */
  details: Record<string, unknown>;
  fingerprint: ContentFingerprint;
  /** Parts of the fingerprint taken while writers were running (hot), compared as warnings only. */
  live: boolean;
}

/**
 * A backup in three phases, so that writers stay stopped only while data
 * that cannot be frozen any other way is copied: `prepare` runs first,
 * `freeze` while the writing services are stopped (cold mode), `finish`
 * after they run again. `abort` undoes leftovers when any phase failed.
 */
export interface BackupTask {
  prepare?(): Promise<void>;
  /** All of the task's freeze work, for a window in which every writer is stopped (or a hot run, where none is). */
  freeze?(): Promise<void>;
  /**
   * The same work in units, each naming the data it reads, so that a cold
   * backup freezing per service (the default) stops only the running
   * writers that mount that data, and only while the unit runs. A task
   * offering only `freeze` is run inside a window that stops every writer.
   */
  freezeUnits?(): FreezeUnit[];
  finish(): Promise<ComponentRecord>;
  abort?(): Promise<void>;
}

/** One piece of a task's freeze work and the data it reads. */
export interface FreezeUnit {
  /** Words for the plan and the progress line, e.g. "volume server_ldap-vol0". */
  label: string;
  /**
   * Engine volume names and absolute host paths the unit copies: the running
   * writers whose containers mount one of them (a host path: the same path,
   * one inside it or one around it) are stopped while it runs. Empty: the
   * unit reads no writer's data (a data service's own snapshot), and runs
   * with every writer running.
   */
  mounts: readonly string[];
  /** `allWritersStopped`: whether every writer of the stack is stopped now (freeze per stack), so live counts equal the copy. */
  run(allWritersStopped: boolean): Promise<void>;
}

/** A task's `freeze` and `freezeUnits` from its units: `freeze` runs them all, in order, with every writer stopped. */
export function frozenIn(units: readonly FreezeUnit[]): Pick<BackupTask, 'freeze' | 'freezeUnits'> {
  return {
    async freeze() {
      for (const unit of units) await unit.run(true);
    },
    freezeUnits: () => [...units],
  };
}

export type RestoreSituation = 'fresh' | 'in-place';

export interface RestoreContext extends RunContext {
  situation: RestoreSituation;
  /** This component's record from the archive's manifest. */
  record: ComponentRecord;
  /** Folder for pipes during the restore. */
  pipeDir: string;
  /** --force-version: version skew is a warning, not a refusal. */
  forceVersion: boolean;
}

/** A difference found when proving a restore. */
export interface Difference {
  component: string;
  key: string;
  expected: number | undefined;
  actual: number | undefined;
}

export interface RestoreTask {
  /** Lines saying exactly what will be replaced (shown before confirmation and by --dry-run). */
  describe(): Promise<string[]>;
  /** Checks that must pass before anything changes (the engine calls these for every component first). */
  preflight(): Promise<void>;
  /** Receives one of this component's archive members as it streams past. */
  receive(member: string, input: Readable): Promise<void>;
  /** Fresh host: work before the stack starts (init scripts, folders). */
  beforeStart?(): Promise<void>;
  /** After data is placed and the service runs: load it (pg_restore, snapshot restore). */
  load?(): Promise<void>;
  /** Recomputes the fingerprint from the live stack. */
  fingerprint(): Promise<ContentFingerprint>;
}

/** BACKUP_ROOT (dumps, snapshot repositories), the engine's own storage (volumes), or another host folder. */
export type RestoreTarget = 'backup-root' | 'engine-storage' | 'host-folder';

/** A host folder a restore writes, so a relocated restore can prove it stays inside its own folder. */
export interface HostPath {
  what: string;
  path: string | undefined;
}

/** A check after an upgrade or a restore: passes when run() resolves, its string is a detail. */
export interface Probe {
  name: string;
  run(ctx: RunContext): Promise<string | void>;
}

export interface Component {
  /** The instance id from the profile; its members are named `<id>/...`. */
  readonly id: string;
  /** The registered kind it is an instance of. */
  readonly kind: string;
  /** Lines for the backup plan (--dry-run). */
  planBackup(config: StackConfig): string[];
  /** Services this instance serves from; a cold backup and an in-place restore keep them running (they are not writers). */
  keepRunning(): string[];
  /** Host folders a restore of this instance writes. */
  hostPaths(): HostPath[];
  /** Where a restore writes this member first: BACKUP_ROOT is checked for space up front, and a full disk is named by it. */
  restoresInto(member: string): RestoreTarget;
  /** Checks that the instance's servers answer (after an upgrade). */
  probes(): Probe[];
  preflightBackup(ctx: BackupContext): Promise<BackupFacts>;
  /**
   * For an instance a backup leaves out (backup --without): what a fresh host
   * still needs of it before the stack starts (its data folder's owner), kept
   * as its record's details; the restore then only calls beforeStart.
   */
  omitted?(ctx: BackupContext): Promise<Record<string, unknown>>;
  backup(ctx: BackupContext): BackupTask;
  restore(ctx: RestoreContext): RestoreTask;
}

/** Compares a fingerprint with the manifest's, key by key. */
export function compareFingerprints(component: string, expected: ContentFingerprint, actual: ContentFingerprint): Difference[] {
  const differences: Difference[] = [];
  const groups = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const group of [...groups].sort()) {
    const e = expected[group] ?? {};
    const a = actual[group] ?? {};
    for (const key of [...new Set([...Object.keys(e), ...Object.keys(a)])].sort()) {
      if (e[key] !== a[key]) differences.push({ component, key: `${group}.${key}`, expected: e[key], actual: a[key] });
    }
  }
  return differences;
}
