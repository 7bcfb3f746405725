// The narrow surface of the Docker engine that hossadm uses. Components and
// the engine depend on this interface only; EngineClient implements it over
// dockerode, and unit tests implement it with fakes.
import type Docker from 'dockerode';

/** Every helper container carries this label (its value says what it is for). */
export const HELPER_LABEL = 'org.hossadm.helper';
/** ...and this one, naming the run that started it, so a later run can sweep leftovers. */
export const RUN_LABEL = 'org.hossadm.run';

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  /** running, exited, created, paused, ... */
  state: string;
  project: string;
  service: string;
  labels: Record<string, string>;
  /** Creation time, seconds since the epoch. */
  created: number;
}

export interface VolumeInfo {
  name: string;
  mountpoint: string;
  labels: Record<string, string>;
}

export interface ExecOptions {
  /** Environment of the exec: where secrets travel, never argv. */
  env?: Record<string, string>;
  user?: string;
  workdir?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Mount {
  /** A named volume or an absolute host path. */
  source: string;
  target: string;
  readOnly?: boolean;
}

/** What a container mounts, as the engine reports it. */
export interface ContainerMount {
  /** volume, bind, tmpfs, ... */
  type: string;
  /** The volume's engine name (type volume). */
  name?: string;
  /** The host side: a bind's path, a volume's folder. */
  source: string;
}

export interface HelperRun {
  image: string;
  argv: readonly string[];
  mounts: readonly Mount[];
  /** Short words for logs and the helper label, e.g. "backup volume auth-secrets". */
  purpose: string;
  runId: string;
  user?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface DockerClient {
  ping(): Promise<{ version: string; apiVersion: string }>;
  listContainers(filters: { labels: Record<string, string | true> }): Promise<ContainerInfo[]>;
  inspectContainer(id: string): Promise<Docker.ContainerInspectInfo>;
  containerAddress(id: string): Promise<string>;
  containerMounts(id: string): Promise<ContainerMount[]>;
  exec(id: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  runHelper(run: HelperRun): Promise<ExecResult>;
  /** Removes one run's helpers, or (no runId) every helper that is no longer running. */
  removeHelpers(filter?: { runId?: string }): Promise<number>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  startContainer(id: string): Promise<void>;
  removeContainer(id: string): Promise<void>;
  inspectVolume(name: string): Promise<VolumeInfo | undefined>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /** Volumes carrying every given label (a throwaway project's, to remove them all). */
  listVolumes(filters: { labels: Record<string, string> }): Promise<VolumeInfo[]>;
  /** Removes the networks carrying every given label; returns how many there were. */
  removeNetworks(filters: { labels: Record<string, string> }): Promise<number>;
  imageExists(reference: string): Promise<boolean>;
}
