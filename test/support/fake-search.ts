// An in-memory OpenSearch / Elasticsearch 7 node behind one fake container:
// indices of documents, fs snapshot repositories whose files really live in
// the host folder bind-mounted at path.repo (so the repository crosses the
// archive through helpers like a real one), and the REST calls the
// search-snapshot kind makes. Any other call is refused loudly.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../../src/components/component.ts';
import type { FakeDocker } from './fake-docker.ts';

type Transport = ReturnType<NonNullable<NonNullable<RunContext['connect']>['search']>>;
type Params = Parameters<Transport['request']>[0];

function httpError(statusCode: number, type: string, reason: string): Error {
  return Object.assign(new Error(`${type}: ${reason}`), { meta: { statusCode, body: { error: { type, reason } } } });
}

interface SnapshotFile {
  snapshot: string;
  indices: Record<string, string[]>;
}

export class FakeSearch {
  readonly service: string;
  readonly flavour: 'opensearch' | 'elasticsearch';
  version: string;
  readonly pathRepo: string;
  readonly indices = new Map<string, string[]>();
  readonly repositories = new Map<string, { location: string; readonly: boolean }>();
  health: 'green' | 'yellow' | 'red' = 'green';
  /** Set to make every new snapshot end in this state (PARTIAL, FAILED). */
  snapshotState = 'SUCCESS';
  openTransports = 0;
  /** Clients ever opened. */
  opened = 0;
  readonly unknownRequests: string[] = [];
  private readonly docker: FakeDocker;

  constructor(docker: FakeDocker, service: string, options: { flavour?: 'opensearch' | 'elasticsearch'; version?: string; pathRepo: string }) {
    this.docker = docker;
    this.service = service;
    this.flavour = options.flavour ?? 'opensearch';
    this.version = options.version ?? (this.flavour === 'opensearch' ? '2.19.1' : '7.10.2');
    this.pathRepo = options.pathRepo;
  }

  addIndex(name: string, documents: number): void {
    this.indices.set(name, Array.from({ length: documents }, (_, i) => JSON.stringify({ id: i, title: `${name} document ${i}` })));
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.indices].filter(([k]) => !k.startsWith('.')).map(([k, v]) => [k, v.length]).sort());
  }

  private running(): boolean {
    return this.docker.container(this.service).info.state === 'running';
  }

  /** path.repo inside the container, as a host folder. */
  private hostOf(location: string): string {
    if (location !== this.pathRepo && !location.startsWith(`${this.pathRepo}/`)) throw httpError(500, 'repository_exception', `location [${location}] doesn't match any of the locations specified by path.repo`);
    const mount = this.docker.container(this.service).mounts.find((m) => m.target === this.pathRepo);
    if (!mount) throw httpError(500, 'repository_exception', `${this.pathRepo} is not mounted`);
    return join(this.docker.hostFolder(mount.source), location.slice(this.pathRepo.length));
  }

  private repo(name: string) {
    const repo = this.repositories.get(name);
    if (!repo) throw httpError(404, 'repository_missing_exception', `[${name}] missing`);
    return repo;
  }

  private async readSnapshot(repoName: string, snapshot: string): Promise<SnapshotFile> {
    const dir = this.hostOf(this.repo(repoName).location);
    const text = await readFile(join(dir, `snap-${snapshot}.dat`), 'utf8').catch(() => undefined);
    if (text === undefined) throw httpError(404, 'snapshot_missing_exception', `[${repoName}:${snapshot}] is missing`);
    return JSON.parse(text) as SnapshotFile;
  }

  private info(file: SnapshotFile, state: string) {
    const names = Object.keys(file.indices).sort();
    const failed = state === 'SUCCESS' ? 0 : 1;
    return { snapshot: file.snapshot, state, indices: names, shards: { total: names.length, failed, successful: names.length - failed } };
  }

  private names(list: string): string[] {
    return list.split(',').filter(Boolean);
  }

  transport(): Transport {
    this.openTransports++;
    this.opened++;
    let open = true;
    return {
      request: async (params: Params) => {
        if (!open) throw new Error('fake search: request on a closed client');
        if (!this.running()) throw Object.assign(new Error('connect ECONNREFUSED'), { meta: {} });
        return { body: await this.handle(params) };
      },
      close: async () => {
        if (open) this.openTransports--;
        open = false;
      },
    };
  }

  private async handle({ method, path, body, querystring = {} }: Params): Promise<unknown> {
    const parts = path.split('/').filter(Boolean);
    const b = (body ?? {}) as Record<string, unknown>;
    if (method === 'GET' && path === '/') {
      return { name: 'node-1', version: { number: this.version, ...(this.flavour === 'opensearch' ? { distribution: 'opensearch' } : { build_flavor: 'oss' }) } };
    }
    if (method === 'GET' && path === '/_nodes/_local/settings') return { nodes: { n1: { settings: { 'path.repo': [this.pathRepo], 'cluster.name': 'fake' } } } };
    if (method === 'GET' && parts[0] === '_cluster' && parts[1] === 'health') return { status: this.health };
    if (method === 'GET' && path === '/_cat/indices') {
      const rows = [...this.indices].map(([index, docs]) => ({ index, 'store.size': String(JSON.stringify(docs).length + 1024), health: this.health }));
      return rows.filter((r) => !querystring.health || r.health === querystring.health).map((r) => Object.fromEntries(querystring.h!.split(',').map((h) => [h, r[h as keyof typeof r]])));
    }
    if (parts[0] === '_snapshot' && parts.length === 2) {
      const name = parts[1]!;
      if (method === 'GET') {
        const repo = this.repo(name);
        return { [name]: { type: 'fs', settings: { location: repo.location, ...(repo.readonly ? { readonly: 'true' } : {}) } } };
      }
      if (method === 'PUT') {
        const settings = (b.settings ?? {}) as { location: string; readonly?: boolean };
        const host = this.hostOf(settings.location);
        if (!settings.readonly) {
          await mkdir(host, { recursive: true });
          if (querystring.verify === 'true') {
            await writeFile(join(host, 'tests-verify'), 'x');
            await rm(join(host, 'tests-verify'));
          }
        }
        this.repositories.set(name, { location: settings.location, readonly: Boolean(settings.readonly) });
        return { acknowledged: true };
      }
      if (method === 'DELETE') {
        this.repo(name);
        this.repositories.delete(name);
        return { acknowledged: true };
      }
    }
    if (parts[0] === '_snapshot' && parts.length === 3) {
      const [, repoName, snapshot] = parts as [string, string, string];
      const repo = this.repo(repoName);
      if (method === 'GET' && snapshot === '_all') {
        const dir = this.hostOf(repo.location);
        const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('snap-'));
        return { snapshots: await Promise.all(files.map(async (f) => this.info(await this.readSnapshot(repoName, f.slice(5, -4)), 'SUCCESS'))) };
      }
      if (method === 'GET') {
        const file = await this.readSnapshot(repoName, snapshot);
        const state = (await readFile(join(this.hostOf(repo.location), `state-${snapshot}`), 'utf8').catch(() => 'SUCCESS')).trim();
        return { snapshots: [this.info(file, state)] };
      }
      if (method === 'PUT') {
        if (repo.readonly) throw httpError(500, 'repository_exception', `[${repoName}] cannot create snapshot in a readonly repository`);
        const dir = this.hostOf(repo.location);
        const indices = Object.fromEntries([...this.indices].filter(([k]) => !k.startsWith('.')));
        const file: SnapshotFile = { snapshot, indices };
        await writeFile(join(dir, `snap-${snapshot}.dat`), JSON.stringify(file));
        await writeFile(join(dir, 'index-0'), JSON.stringify({ snapshots: [snapshot] }));
        for (const [index, docs] of Object.entries(indices)) {
          await mkdir(join(dir, 'indices', index, '0'), { recursive: true });
          await writeFile(join(dir, 'indices', index, '0', '__segment'), docs.join('\n'));
        }
        if (this.snapshotState !== 'SUCCESS') await writeFile(join(dir, `state-${snapshot}`), this.snapshotState);
        return { accepted: true };
      }
      if (method === 'DELETE') {
        await this.readSnapshot(repoName, snapshot);
        const dir = this.hostOf(repo.location);
        await rm(join(dir, `snap-${snapshot}.dat`), { force: true });
        await rm(join(dir, `state-${snapshot}`), { force: true });
        await rm(join(dir, 'indices'), { recursive: true, force: true });
        await rm(join(dir, 'index-0'), { force: true });
        return { acknowledged: true };
      }
    }
    if (method === 'POST' && parts[0] === '_snapshot' && parts[3] === '_restore') {
      const file = await this.readSnapshot(parts[1]!, parts[2]!);
      for (const index of Object.keys(file.indices)) {
        if (this.indices.has(index)) throw httpError(500, 'snapshot_restore_exception', `cannot restore index [${index}] because an open index with same name already exists in the cluster`);
      }
      for (const [index, docs] of Object.entries(file.indices)) this.indices.set(index, [...docs]);
      const n = Object.keys(file.indices).length;
      return { snapshot: { snapshot: file.snapshot, indices: Object.keys(file.indices), shards: { total: n, failed: 0, successful: n } } };
    }
    if (method === 'POST' && parts.length === 2 && parts[1] === '_refresh') {
      for (const i of this.names(parts[0]!)) if (!this.indices.has(i)) throw httpError(404, 'index_not_found_exception', `no such index [${i}]`);
      return { _shards: { failed: 0 } };
    }
    if (method === 'GET' && parts.length === 2 && parts[1] === '_count') {
      const docs = this.indices.get(parts[0]!);
      if (!docs) throw httpError(404, 'index_not_found_exception', `no such index [${parts[0]}]`);
      return { count: docs.length };
    }
    if (method === 'DELETE' && parts.length === 1) {
      for (const i of this.names(parts[0]!)) {
        if (!this.indices.has(i)) throw httpError(404, 'index_not_found_exception', `no such index [${i}]`);
        this.indices.delete(i);
      }
      return { acknowledged: true };
    }
    this.unknownRequests.push(`${method} ${path}`);
    throw httpError(400, 'fake_search', `unexpected request ${method} ${path}`);
  }
}
