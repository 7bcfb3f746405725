// The bench's own copy of a reference stack (HOSS, TheHive, Wire or
// CyberSift): a private stack folder under a temporary folder and a project
// name of its own, so it runs beside the stacks other people and tests have
// up, and goes away completely afterwards.
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnvFile, type EnvMap } from '../src/config/env-file.ts';
import { EngineClient } from '../src/docker/client.ts';
import { findServiceContainer } from '../src/docker/compose-services.ts';
import { composeVolumeLabels } from '../src/components/volumes/volumes-component.ts';

export const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
export const BENCH_VOLUME = 'bench-data';
const STACK_VOLUMES = ['auth-secrets', 'ldap-vol0', 'ldap-vol1', 'rabbitmq-data'];
export const BENCH_LABEL = 'org.hossadm.bench';

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (argv, never a shell line) and keeps its output; rejects on a non-zero exit. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, allowFail = false): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { code: code ?? 1, stdout, stderr };
      if (code === 0 || allowFail) resolve(result);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr.slice(-3000)}`));
    });
  });
}

/** The reference stacks the bench knows (compose/stack --stack NAME). */
export const STACK_NAMES = ['hoss', 'thehive', 'wire', 'cybersift'] as const;
export type StackName = (typeof STACK_NAMES)[number];

/** The variable compose/stack and hossadm read the stack folder from. */
const DIR_VARIABLE: Record<StackName, string> = { hoss: 'HOSS_DIR', thehive: 'THEHIVE_DIR', wire: 'WIRE_DIR', cybersift: 'CYBERSIFT_DIR' };

export class BenchStack {
  readonly docker = new EngineClient();
  readonly runId: string;
  readonly project: string;
  readonly root: string;
  /** The stack folder (HOSS_DIR, THEHIVE_DIR, ...). */
  readonly hossDir: string;
  env: EnvMap = {};
  private upDone = false;

  readonly name: StackName;

  private constructor(root: string, name: StackName) {
    this.root = root;
    this.name = name;
    this.hossDir = join(root, name);
    // HOSS keeps the project name it always had; the others add their name.
    const suffix = name === 'hoss' ? '' : name;
    this.project = `bench${process.pid}${suffix}`;
    this.runId = `bench-${process.pid}${suffix ? `-${suffix}` : ''}-${Date.now().toString(36)}`;
  }

  static async create(name: StackName = 'hoss'): Promise<BenchStack> {
    return new BenchStack(await mkdtemp(join(tmpdir(), `hossadm-bench-${name === 'hoss' ? '' : `${name}-`}`)), name);
  }

  get backupRoot(): string {
    return this.env.BACKUP_ROOT ?? join(this.hossDir, 'backup');
  }

  /** Where the floor measurements put their output: same file system as BACKUP_ROOT, outside it. */
  get floorDir(): string {
    return join(this.root, 'floor');
  }

  get pipeDir(): string {
    return join(this.root, 'pipes');
  }

  /** The compiled CLI the bench measures (see buildCli). */
  get cli(): string {
    return join(this.root, 'hossadm', 'dist', 'cli', 'main.js');
  }

  /**
   * Compiles the committed hossadm (HEAD, not the working tree: other people
   * edit src/ while this runs) into a private folder, and measures that
   * build, the JavaScript an operator runs, rather than type-stripped
   * sources. Returns the commit measured.
   */
  async buildCli(): Promise<string> {
    const dir = join(this.root, 'hossadm');
    await mkdir(dir, { recursive: true });
    const commit = (await run('git', ['-C', REPO, 'rev-parse', 'HEAD'])).stdout.trim();
    await run('sh', ['-c', 'git -C "$1" archive "$2" src templates package.json tsconfig.json | tar -x -C "$3"', 'build', REPO, commit, dir]);
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')]);
    return commit;
  }

  /** The environment the stack driver and hossadm run with: this stack, whatever the caller's shell says. */
  childEnv(): NodeJS.ProcessEnv {
    return { ...process.env, [DIR_VARIABLE[this.name]]: this.hossDir, COMPOSE_PROJECT_NAME: this.project };
  }

  /** hossadm's options for this stack: HOSS is the default profile and finds HOSS_DIR; the others name theirs. */
  cliOptions(): string[] {
    return this.name === 'hoss' ? [] : ['--profile', this.name, '--config-dir', this.hossDir];
  }

  async stackVerb(...args: string[]): Promise<ChildResult> {
    return run(join(REPO, 'compose', 'stack'), this.name === 'hoss' ? args : ['--stack', this.name, ...args], this.childEnv());
  }

  volumes(): string[] {
    return [...STACK_VOLUMES, BENCH_VOLUME];
  }

  dockerVolume(name: string): string {
    return `${this.project}_${name}`;
  }

  async up(): Promise<void> {
    this.upDone = true;
    await this.stackVerb('up');
    if (this.name !== 'hoss') {
      this.env = await readEnvFile(join(this.hossDir, '.env'));
      return;
    }
    // hossadm reads its volume list from .env, so the bench volume is one
    // more volume of the stack, backed up and restored like the others.
    await appendFile(join(this.hossDir, '.env'), `HOSSADM_VOLUMES=${this.volumes().join(',')}\n`);
    this.env = await readEnvFile(join(this.hossDir, '.env'));
    const name = this.dockerVolume(BENCH_VOLUME);
    if (!(await this.docker.inspectVolume(name))) {
      await this.docker.createVolume(name, { ...composeVolumeLabels(this.project, BENCH_VOLUME), [BENCH_LABEL]: this.runId });
    }
  }

  async container(service: string): Promise<{ id: string; name: string }> {
    return findServiceContainer(this.docker, this.project, service);
  }

  async mountpoint(volume: string): Promise<string> {
    const info = await this.docker.inspectVolume(this.dockerVolume(volume));
    if (!info) throw new Error(`volume ${this.dockerVolume(volume)} is missing`);
    return info.mountpoint;
  }

  async searchUrl(): Promise<string> {
    const c = await this.container('opensearch');
    return `http://${await this.docker.containerAddress(c.id)}:9200`;
  }

  /** Runs a script as root in a helper container; the bench's helpers carry its run id. */
  async helper(script: string, args: string[], mounts: { source: string; target: string; readOnly?: boolean }[], purpose: string): Promise<string> {
    const result = await this.docker.runHelper({
      image: this.env.HOSSADM_HELPER_IMAGE || 'hoss-local/busybox:local',
      argv: ['sh', '-c', script, 'bench', ...args],
      mounts,
      purpose,
      runId: this.runId,
    });
    if (result.exitCode !== 0) throw new Error(`${purpose}: helper exited ${result.exitCode}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** Removes a folder holding files of other uids (the services' and the extracted volumes'), as root in a helper. */
  async removeTree(path: string): Promise<void> {
    const exists = await stat(path).then(() => true, () => false);
    if (!exists) return;
    await this.helper('rm -rf -- "/parent/$1"', [basename(path)], [{ source: dirname(path), target: '/parent' }], `bench remove ${path}`);
  }

  /** Allocated bytes of a host folder (sparse files count what they occupy). */
  static async allocated(path: string): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = join(dir, entry.name);
        const info = await stat(full).catch(() => undefined);
        if (!info) continue;
        if (entry.isDirectory()) await walk(full);
        else total += info.blocks * 512;
      }
    };
    await walk(path);
    return total;
  }

  /**
   * Everything this bench made goes: the stack's containers, network,
   * volumes and folders (compose/stack reset), the bench volume, leftover
   * helpers, and the temporary folder (through a helper: the services'
   * files there belong to other uids).
   */
  async teardown(log: (m: string) => void): Promise<void> {
    const step = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        log(`teardown: ${what} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    };
    await step('helpers', () => this.docker.removeHelpers({ runId: this.runId }));
    if (this.upDone) await step('stack reset', () => this.stackVerb('reset'));
    if (this.name === 'hoss') {
      await step('bench volume', async () => {
        if (await this.docker.inspectVolume(this.dockerVolume(BENCH_VOLUME))) await this.docker.removeVolume(this.dockerVolume(BENCH_VOLUME));
      });
    }
    await step('temporary folder', async () => {
      await this.removeTree(this.root);
    });
  }
}
