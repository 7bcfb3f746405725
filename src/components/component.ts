// The one interface every stateful part of a stack implements. The backup
// and restore engines run components in a fixed order and know nothing of
// Postgres, OpenSearch or volumes; adding Elasticsearch, Redis, Cassandra or
// MinIO means adding a component, not editing an engine.
import type { Readable } from 'node:stream';
import type { StackConfig } from '../config/stack-config.ts';
import type { Staging } from '../core/staging.ts';
import type { ContainerInfo, DockerClient } from '../docker/types.ts';
import type { Reporter } from '../ui/reporter.ts';

export type ConsistencyMode = 'cold' | 'hot';

/** What every component may use; everything it touches comes in here. */
export interface RunContext {
  config: StackConfig;
  docker: DockerClient;
  reporter: Reporter;
  runId: string;
  signal: AbortSignal;
  /** The project's containers, as found by compose labels at the start of the run. */
  containers: ContainerInfo[];
}

export interface BackupContext extends RunContext {
  staging: Staging;
  mode: ConsistencyMode;
}

/** Facts a component establishes before anything is stopped or written. */
export interface BackupFacts {
  /** Engine versions, e.g. { postgresServer: "15.10", pgDump: "15.10" }. */
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
  freeze?(): Promise<void>;
  finish(): Promise<ComponentRecord>;
  abort?(): Promise<void>;
}

export type RestoreSituation = 'fresh' | 'in-place';

export interface RestoreContext extends RunContext {
  situation: RestoreSituation;
  /** This component's record from the archive's manifest. */
  record: ComponentRecord;
  /** Folder for pipes during the restore. */
  pipeDir: string;
  /** Engine versions recorded at backup time (manifest.engines). */
  engines: Record<string, string>;
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

export interface Component {
  readonly id: string;
  /** Lines for the backup plan (--dry-run). */
  planBackup(config: StackConfig): string[];
  /** Archive members this component writes (names may depend on config). */
  ownsMember(name: string): boolean;
  preflightBackup(ctx: BackupContext): Promise<BackupFacts>;
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
