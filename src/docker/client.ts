// The only place hossadm talks to the Docker engine. It exposes the handful of
// operations the tool needs, typed, with every exit code read back, so that
// components never see dockerode and unit tests can replace the whole engine
// with a fake implementing DockerClient.
import Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import { EngineError, OperationError, StackError } from '../errors.ts';
import { HELPER_LABEL, RUN_LABEL, type ContainerInfo, type ContainerMount, type DockerClient, type ExecOptions, type ExecResult, type HelperRun, type VolumeInfo } from './types.ts';

/** Output a helper or exec may return to us; bulk data never travels this way. */
const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

function describeEngineFailure(error: unknown): EngineError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const address = engineAddress();
  if (code === 'EACCES') {
    return new EngineError(`cannot open the Docker socket at ${address}: permission denied`, {
      hint: 'add your user to the "docker" group (then log in again), or run hossadm as a user with Docker access',
      cause: error,
    });
  }
  return new EngineError(`no Docker engine answers at ${address}`, {
    hint: 'start the Docker engine (systemctl start docker) or point DOCKER_HOST at a running one',
    cause: error,
  });
}

/** Collects a stream into a string, refusing to hold more than MAX_CAPTURE_BYTES. */
async function collect(stream: Readable, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > MAX_CAPTURE_BYTES) throw new OperationError(`${what} printed more than ${MAX_CAPTURE_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Splits the engine's multiplexed log format (8-byte frame headers: stream, size) into stdout and stderr. */
export function demuxLog(raw: Buffer): { stdout: string; stderr: string } {
  if (raw.length > MAX_CAPTURE_BYTES) throw new OperationError(`a helper printed more than ${MAX_CAPTURE_BYTES} bytes`);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset];
    const size = raw.readUInt32BE(offset + 4);
    const frame = raw.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(frame);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function toContainerInfo(c: Docker.ContainerInfo): ContainerInfo {
  const labels = c.Labels ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    project: labels['com.docker.compose.project'] ?? '',
    service: labels['com.docker.compose.service'] ?? '',
    labels,
    created: c.Created,
  };
}

export class EngineClient implements DockerClient {
  private readonly docker: Docker;

  constructor(docker?: Docker) {
    this.docker = docker ?? new Docker();
  }

  async ping(): Promise<{ version: string; apiVersion: string }> {
    try {
      const info = await this.docker.version();
      return { version: info.Version, apiVersion: info.ApiVersion };
    } catch (error) {
      throw describeEngineFailure(error);
    }
  }

  async listContainers(filters: { labels: Record<string, string | true> }): Promise<ContainerInfo[]> {
    const label = Object.entries(filters.labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
    const found = await this.call(() => this.docker.listContainers({ all: true, filters: { label } }));
    return found.map(toContainerInfo);
  }

  async inspectContainer(id: string): Promise<Docker.ContainerInspectInfo> {
    return this.call(() => this.docker.getContainer(id).inspect());
  }

  async containerMounts(id: string): Promise<ContainerMount[]> {
    const info = await this.inspectContainer(id);
    return (info.Mounts ?? []).map((m) => ({ type: m.Type, ...(m.Name ? { name: m.Name } : {}), source: m.Source }));
  }

  async containerAddress(id: string): Promise<string> {
    const info = await this.inspectContainer(id);
    for (const network of Object.values(info.NetworkSettings.Networks ?? {})) {
      if (network.IPAddress) return network.IPAddress;
    }
    throw new StackError(`container ${info.Name.replace(/^\//, '')} has no network address`, {
      hint: 'check that the container is running and attached to its compose network',
    });
  }

  async exec(id: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(id);
    const exec = await this.call(() =>
      container.exec({
        Cmd: [...argv],
        Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
        User: options.user ?? '',
        WorkingDir: options.workdir ?? '',
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: false,
        Tty: false,
      }),
    );
    const stream = await this.call(() => exec.start({ hijack: true, stdin: false }));
    const out = new PassThrough();
    const err = new PassThrough();
    this.docker.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    const collected = Promise.all([collect(out, argv[0] ?? 'exec'), collect(err, argv[0] ?? 'exec')]);
    await ended;
    out.end();
    err.end();
    const [stdout, stderr] = await collected;
    const info = await this.call(() => exec.inspect());
    if (info.ExitCode === null || info.ExitCode === undefined) {
      throw new OperationError(`${argv[0]} in ${id.slice(0, 12)} ended without an exit code`);
    }
    return { exitCode: info.ExitCode, stdout, stderr };
  }

  async runHelper(run: HelperRun): Promise<ExecResult> {
    const container = await this.call(() =>
      this.docker.createContainer({
        Image: run.image,
        Cmd: [...run.argv],
        User: run.user ?? '0:0',
        Env: Object.entries(run.env ?? {}).map(([k, v]) => `${k}=${v}`),
        Labels: { [HELPER_LABEL]: run.purpose, [RUN_LABEL]: run.runId },
        HostConfig: {
          Binds: run.mounts.map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`),
          NetworkMode: 'none',
          AutoRemove: false,
        },
      }),
    );
    const abort = () => void container.remove({ force: true }).catch(() => undefined);
    run.signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.call(() => container.start());
      const status = (await this.call(() => container.wait())) as { StatusCode: number };
      // Read back once the container has exited: the log holds every byte it
      // printed, where an attached stream may still be in flight at exit.
      const raw = (await this.call(() => container.logs({ stdout: true, stderr: true, follow: false }))) as unknown as Buffer;
      const { stdout, stderr } = demuxLog(raw);
      return { exitCode: status.StatusCode, stdout, stderr };
    } finally {
      run.signal?.removeEventListener('abort', abort);
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async removeHelpers(filter: { runId?: string } = {}): Promise<number> {
    const labels: Record<string, string | true> = { [HELPER_LABEL]: true };
    if (filter.runId) labels[RUN_LABEL] = filter.runId;
    // Without a run id this sweeps what killed runs left long ago: helpers
    // that are not running and were created over ten minutes back. A recent
    // one may belong to a live run on another stack that has not yet read
    // the output of a helper that just exited; a killed run's own helpers are
    // removed by run id when its lock is taken over.
    const longAgo = Date.now() / 1000 - 600;
    const stale = (await this.listContainers({ labels })).filter((c) => filter.runId || (c.state !== 'running' && c.created < longAgo));
    await Promise.all(stale.map((c) => this.docker.getContainer(c.id).remove({ force: true }).catch(() => undefined)));
    return stale.length;
  }

  async stopContainer(id: string, timeoutSeconds = 30): Promise<void> {
    await this.call(async () => {
      try {
        await this.docker.getContainer(id).stop({ t: timeoutSeconds });
      } catch (error) {
        // 304: already stopped, which is the state we wanted.
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      }
    });
  }

  async startContainer(id: string): Promise<void> {
    await this.call(async () => {
      try {
        await this.docker.getContainer(id).start();
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      }
    });
  }

  async removeContainer(id: string): Promise<void> {
    await this.call(() => this.docker.getContainer(id).remove({ force: true, v: false }));
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    try {
      const v = await this.docker.getVolume(name).inspect();
      return { name: v.Name, mountpoint: v.Mountpoint, labels: v.Labels ?? {} };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw this.wrap(error);
    }
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.call(() => this.docker.createVolume({ Name: name, Labels: labels }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(() => this.docker.getVolume(name).remove());
  }

  async listVolumes(filters: { labels: Record<string, string> }): Promise<VolumeInfo[]> {
    const label = Object.entries(filters.labels).map(([k, v]) => `${k}=${v}`);
    const found = await this.call(() => this.docker.listVolumes({ filters: { label } }));
    return (found.Volumes ?? []).map((v) => ({ name: v.Name, mountpoint: v.Mountpoint, labels: v.Labels ?? {} }));
  }

  async removeNetworks(filters: { labels: Record<string, string> }): Promise<number> {
    const label = Object.entries(filters.labels).map(([k, v]) => `${k}=${v}`);
    const found = await this.call(() => this.docker.listNetworks({ filters: { label } }));
    for (const network of found) await this.call(() => this.docker.getNetwork(network.Id).remove());
    return found.length;
  }

  async imageExists(reference: string): Promise<boolean> {
    try {
      await this.docker.getImage(reference).inspect();
      return true;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return false;
      throw this.wrap(error);
    }
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private wrap(error: unknown): Error {
    if (error instanceof EngineError || error instanceof OperationError || error instanceof StackError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') return describeEngineFailure(error);
    const status = (error as { statusCode?: number }).statusCode;
    const reason = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
    if (status === 404) return new StackError(`Docker: ${reason}`, { cause: error });
    return new EngineError(`Docker engine refused the request: ${reason}`, { cause: error });
  }
}
