// An in-memory Docker engine for unit tests: the containers of compose
// projects with their labels, states, addresses and mounts; stop and start
// recorded in order; exec answered by handlers a test (or a fake server)
// registers per argv; named volumes as folders under a temp root; and
// helper containers that run the very scripts of src/docker/tree-helper.ts
// on this host, with every container path rewritten to the host folder
// mounted there, so bytes really flow through the FIFOs as with real helpers.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type Docker from 'dockerode';
import { TREE_SCRIPTS } from '../../src/docker/tree-helper.ts';
import { HELPER_LABEL, RUN_LABEL, type ContainerInfo, type ContainerMount, type DockerClient, type ExecOptions, type ExecResult, type HelperRun, type Mount, type VolumeInfo } from '../../src/docker/types.ts';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

/** A mount of a service container: a host folder (bind) or a named volume. */
export interface FakeMount {
  type: 'bind' | 'volume';
  /** Host path (bind) or full volume name (volume). */
  source: string;
  target: string;
}

export interface FakeContainer {
  info: ContainerInfo;
  mounts: FakeMount[];
  address: string;
  restartCount: number;
}

export interface ExecCall {
  container: ContainerInfo;
  argv: readonly string[];
  options: ExecOptions;
  /** The host path of a path inside the container, through its mounts. */
  hostPath(containerPath: string): string;
}

export type ExecHandler = (call: ExecCall) => ExecResult | Promise<ExecResult>;

/** What one helper container was asked to do. */
export interface HelperRecord {
  purpose: string;
  runId: string;
  labels: Record<string, string>;
  /** Which tree script: tar-out, tar-in, count, make-folder, remove, owner, set-times (or "foreign"). */
  script: string;
  args: string[];
  mounts: Mount[];
  exitCode?: number;
  stderr?: string;
}

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });

/** Which of the tree scripts a helper runs, by what it does. */
export function scriptKind(script: string): string {
  if (!TREE_SCRIPTS.includes(script)) return 'foreign';
  if (script.includes('tar -c -f') || script.includes('tar --create')) return 'tar-out';
  if (script.includes('tar -x -f') || script.includes('tar --extract')) return 'tar-in';
  if (script.includes('xargs -0')) return 'set-times';
  if (script.includes('rm -rf -- "$1"')) return 'remove';
  if (script.includes('mkdir -p "$1"')) return 'make-folder';
  if (script.includes("stat -c 'owner")) return 'owner';
  return 'count';
}

/** Arguments a script writes to: a read-only mount there fails it, as it would in a real helper. */
const WRITES: Record<string, number[]> = { 'tar-out': [1], 'tar-in': [0], 'make-folder': [0], remove: [0], 'set-times': [0] };

function commandResult(child: ReturnType<typeof spawn>, signal?: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const abort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('close', (code, killed) => {
      signal?.removeEventListener('abort', abort);
      resolve({ exitCode: code ?? (killed ? 137 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

export class FakeDocker implements DockerClient {
  readonly root: string;
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, VolumeInfo>();
  readonly images = new Set(['busybox']);
  /** "stop <service>", "start <service>", "remove <service>", in order. */
  readonly events: string[] = [];
  readonly execs: { service: string; argv: readonly string[]; options: ExecOptions }[] = [];
  /** Exec calls no handler answered (they got exit code 127). */
  readonly unhandledExecs: string[] = [];
  readonly helpers: HelperRecord[] = [];
  /** Helpers running right now, by their container id. */
  readonly liveHelpers = new Map<string, HelperRecord>();
  readonly removeHelpersCalls: { runId?: string }[] = [];
  /** Volumes a helper's mount created because they did not exist (Docker does that silently). */
  readonly autoCreatedVolumes: string[] = [];
  /** Called after a container changed state (fake servers stop answering when theirs stops). */
  readonly onStateChange: ((container: FakeContainer) => void)[] = [];
  private readonly handlers: { service: string; prefix: readonly string[]; handler: ExecHandler }[] = [];
  private nextId = 1;

  constructor(root: string) {
    this.root = root;
  }

  // ---- set-up by tests -------------------------------------------------

  addContainer(project: string, service: string, mounts: FakeMount[] = [], state = 'running'): ContainerInfo {
    const n = this.nextId++;
    const info: ContainerInfo = {
      id: `c${n.toString().padStart(4, '0')}`,
      name: `${project}-${service}-1`,
      image: `${service}:fake`,
      state,
      project,
      service,
      labels: { [PROJECT_LABEL]: project, [SERVICE_LABEL]: service, 'com.docker.compose.container-number': '1' },
      created: 1_700_000_000 + n,
    };
    // Loopback: any client that bypasses the fakes is refused at once instead of hanging.
    this.containers.set(info.id, { info, mounts, address: `127.0.0.${n + 1}`, restartCount: 0 });
    return info;
  }

  container(service: string): FakeContainer {
    const found = [...this.containers.values()].find((c) => c.info.service === service);
    if (!found) throw new Error(`fake docker: no container of service ${service}`);
    return found;
  }

  byAddress(address: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.address === address);
  }

  /** Answers `exec` of argv starting with `prefix` in the containers of `service`. Later registrations win. */
  onExec(service: string, prefix: readonly string[], handler: ExecHandler): void {
    this.handlers.unshift({ service, prefix, handler });
  }

  states(): string[] {
    return [...this.containers.values()].map((c) => `${c.info.service}:${c.info.state}`).sort();
  }

  /** The host folder behind a mount source (a bind's path, a volume's folder). */
  hostFolder(source: string): string {
    if (isAbsolute(source)) return source;
    const volume = this.volumes.get(source);
    if (!volume) throw new Error(`fake docker: no volume ${source}`);
    return volume.mountpoint;
  }

  async createVolumeWith(name: string): Promise<string> {
    await this.createVolume(name, {});
    return this.volumes.get(name)!.mountpoint;
  }

  // ---- DockerClient ----------------------------------------------------

  async ping() {
    return { version: '27.5.1-fake', apiVersion: '1.47' };
  }

  async listContainers(filters: { labels: Record<string, string | true> }): Promise<ContainerInfo[]> {
    const all = [...[...this.containers.values()].map((c) => c.info), ...[...this.liveHelpers.entries()].map(([id, h]) => this.helperInfo(id, h))];
    return all
      .filter((c) => Object.entries(filters.labels).every(([k, v]) => (v === true ? k in c.labels : c.labels[k] === v)))
      .map((c) => ({ ...c, labels: { ...c.labels } }));
  }

  private helperInfo(id: string, h: HelperRecord): ContainerInfo {
    return { id, name: `helper-${id}`, image: 'busybox', state: 'running', project: '', service: '', labels: h.labels, created: 1_700_000_000 };
  }

  private find(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw Object.assign(new Error(`(HTTP code 404) no such container - No such container: ${id}`), { statusCode: 404 });
    return c;
  }

  async inspectContainer(id: string): Promise<Docker.ContainerInspectInfo> {
    const c = this.find(id);
    const running = c.info.state === 'running';
    const info = {
      Id: c.info.id,
      Name: `/${c.info.name}`,
      RestartCount: c.restartCount,
      State: { Status: c.info.state, Running: running, ExitCode: 0 },
      HostConfig: { RestartPolicy: { Name: 'unless-stopped' } },
      Config: { Labels: { ...c.info.labels }, Image: c.info.image },
      NetworkSettings: { Networks: running ? { [`${c.info.project}_default`]: { IPAddress: c.address } } : {} },
      Mounts: c.mounts.map((m) =>
        m.type === 'bind'
          ? { Type: 'bind', Source: m.source, Destination: m.target, Mode: '', RW: true, Propagation: 'rprivate' }
          : { Type: 'volume', Name: m.source, Source: this.volumes.get(m.source)?.mountpoint ?? '', Destination: m.target, Driver: 'local', Mode: 'z', RW: true, Propagation: '' }),
    };
    return info as unknown as Docker.ContainerInspectInfo;
  }

  async containerMounts(id: string): Promise<ContainerMount[]> {
    return this.find(id).mounts.map((m) => (m.type === 'bind' ? { type: 'bind', source: m.source } : { type: 'volume', name: m.source, source: this.volumes.get(m.source)?.mountpoint ?? '' }));
  }

  async containerAddress(id: string): Promise<string> {
    const c = this.find(id);
    if (c.info.state !== 'running') throw new Error(`container ${c.info.name} has no network address`);
    return c.address;
  }

  private mapThrough(mounts: readonly { source: string; target: string }[], path: string): string | undefined {
    const mount = [...mounts]
      .filter((m) => path === m.target || path.startsWith(`${m.target.replace(/\/$/, '')}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (!mount) return undefined;
    return join(this.hostFolder(mount.source), path.slice(mount.target.length));
  }

  async exec(id: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const c = this.find(id);
    if (c.info.state !== 'running') throw Object.assign(new Error(`(HTTP code 409) container ${id} is not running`), { statusCode: 409 });
    this.execs.push({ service: c.info.service, argv: [...argv], options });
    const entry = this.handlers.find((h) => h.service === c.info.service && h.prefix.every((p, i) => argv[i] === p));
    if (!entry) {
      this.unhandledExecs.push(`${c.info.service}: ${argv.join(' ')}`);
      return { exitCode: 127, stdout: '', stderr: `exec: "${argv[0]}": executable file not found in $PATH` };
    }
    return entry.handler({
      container: c.info,
      argv,
      options,
      hostPath: (p) => {
        const host = this.mapThrough(c.mounts, p);
        if (!host) throw new Error(`fake docker: ${p} in ${c.info.name} is in no mount`);
        return host;
      },
    });
  }

  async runHelper(run: HelperRun): Promise<ExecResult> {
    if (!this.images.has(run.image)) throw Object.assign(new Error(`(HTTP code 404) No such image: ${run.image}`), { statusCode: 404 });
    const [sh, dashC, script, zero, ...args] = run.argv;
    const kind = sh === 'sh' && dashC === '-c' && zero === 'hossadm-helper' && script !== undefined ? scriptKind(script) : 'foreign';
    const record: HelperRecord = { purpose: run.purpose, runId: run.runId, labels: { [HELPER_LABEL]: run.purpose, [RUN_LABEL]: run.runId }, script: kind, args, mounts: [...run.mounts] };
    this.helpers.push(record);
    const id = `h${this.nextId++}`;
    this.liveHelpers.set(id, record);
    try {
      const result = await this.emulate(record, script ?? '', run.signal);
      record.exitCode = result.exitCode;
      record.stderr = result.stderr;
      return result;
    } finally {
      // The engine client removes its helper once it has exited.
      this.liveHelpers.delete(id);
    }
  }

  private async emulate(record: HelperRecord, script: string, signal?: AbortSignal): Promise<ExecResult> {
    if (record.script === 'foreign') return { exitCode: 2, stdout: '', stderr: 'fake docker: a helper ran a script that is not one of TREE_SCRIPTS' };
    // A bind mount of a missing host folder makes it; a mount of a missing volume creates the volume.
    for (const m of record.mounts) {
      if (isAbsolute(m.source)) await mkdir(m.source, { recursive: true });
      else if (!this.volumes.has(m.source)) {
        this.autoCreatedVolumes.push(m.source);
        await this.createVolume(m.source, {});
      }
    }
    const mapped: string[] = [];
    for (const [index, arg] of record.args.entries()) {
      if (!arg.startsWith('/')) {
        mapped.push(arg);
        continue;
      }
      const host = this.mapThrough(record.mounts, arg);
      // A real helper would write into its own throwaway layer: data lost without a word.
      if (!host) return { exitCode: 1, stdout: '', stderr: `fake docker: ${arg} is in no mount of the helper` };
      const mount = record.mounts.filter((m) => arg === m.target || arg.startsWith(`${m.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
      if (mount.readOnly && (WRITES[record.script] ?? []).includes(index)) return { exitCode: 1, stdout: '', stderr: `${arg}: Read-only file system` };
      mapped.push(host);
    }
    const child = spawn('sh', ['-c', script, 'hossadm-helper', ...mapped], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    return commandResult(child, signal);
  }

  async removeHelpers(filter: { runId?: string } = {}): Promise<number> {
    this.removeHelpersCalls.push({ ...filter });
    let removed = 0;
    for (const [id, h] of this.liveHelpers) {
      if (!filter.runId || h.runId === filter.runId) {
        this.liveHelpers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async stopContainer(id: string): Promise<void> {
    const c = this.find(id);
    this.events.push(`stop ${c.info.service}`);
    c.info.state = 'exited';
    for (const hook of this.onStateChange) hook(c);
  }

  async startContainer(id: string): Promise<void> {
    const c = this.find(id);
    this.events.push(`start ${c.info.service}`);
    c.info.state = 'running';
    for (const hook of this.onStateChange) hook(c);
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.find(id);
    this.events.push(`remove ${c.info.service}`);
    this.containers.delete(id);
  }

  async inspectVolume(name: string): Promise<VolumeInfo | undefined> {
    const v = this.volumes.get(name);
    return v ? { ...v, labels: { ...v.labels } } : undefined;
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    if (this.volumes.has(name)) return;
    const mountpoint = join(this.root, 'volumes', name, '_data');
    await mkdir(mountpoint, { recursive: true });
    this.volumes.set(name, { name, mountpoint, labels: { ...labels } });
  }

  async removeVolume(name: string): Promise<void> {
    const v = this.volumes.get(name);
    if (!v) return;
    this.volumes.delete(name);
    await rm(join(this.root, 'volumes', name), { recursive: true, force: true });
  }

  async listVolumes(filters: { labels: Record<string, string> }): Promise<VolumeInfo[]> {
    return [...this.volumes.values()].filter((v) => Object.entries(filters.labels).every(([k, val]) => v.labels[k] === val));
  }

  async removeNetworks(): Promise<number> {
    return 0;
  }

  async imageExists(reference: string): Promise<boolean> {
    return this.images.has(reference);
  }
}

export { ok as execOk };
