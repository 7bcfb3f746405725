// Search-engine backup (OpenSearch, Elasticsearch 7) through the snapshot API into a fresh fs repository
// folder per backup, so the archive holds exactly one self-contained
// snapshot. The snapshot starts while writers are stopped (a snapshot is
// point-in-time at its start) and completes after they run again. HTTP 200
// proves nothing: state must be SUCCESS with zero failed shards.
import { readFromContainer } from '../../core/fifo.ts';
import { folderOwner, removeTree, tarTreeOut, type TreeCount, type TreeHelperRun } from '../../docker/tree-helper.ts';
import { OperationError, PreflightError } from '../../errors.ts';
import { type BackupContext, type BackupFacts, type BackupTask, type ComponentRecord, frozenIn } from '../component.ts';
import type { SearchContext } from './search-kind.ts';
import { connectSearch, countDocuments, liveEngine, pollUntil, repoFolder, searchContainer, userIndices, type SearchApi } from './search-client.ts';

export const repositoryMember = (id: string) => `${id}/repository.tar`;

export interface SnapshotInfo {
  snapshot: string;
  state: string;
  indices: string[];
  shards?: { total: number; failed: number; successful: number };
  failures?: { index: string; shard_id: number; reason: string }[];
}

const folderName = (runId: string) => `hossadm-${runId}`;

/**
 * A finished snapshot is usable only in state SUCCESS with every shard
 * done: the API answers 200 for PARTIAL snapshots and failed shards too.
 */
export function snapshotProblem(info: SnapshotInfo, label = 'OpenSearch'): OperationError | undefined {
  const shards = info.shards;
  if (info.state === 'SUCCESS' && shards && shards.failed === 0 && shards.successful === shards.total) return undefined;
  const failures = (info.failures ?? []).map((f) => `${f.index}[${f.shard_id}]: ${f.reason}`).join('\n');
  return new OperationError(`${label} snapshot ${info.snapshot} ended ${info.state} with ${shards?.failed ?? '?'} failed of ${shards?.total ?? '?'} shards`, {
    details: failures,
    hint: 'check the cluster health (GET _cluster/health) and the failing shards above, then run the backup again',
  });
}

/** Host folder mounted as the engine's data folder, if it is a bind mount. */
async function dataFolder(ctx: SearchContext<BackupContext>): Promise<string | undefined> {
  const info = await ctx.docker.inspectContainer((await searchContainer(ctx)).id);
  return (info.Mounts ?? []).find((m) => m.Type === 'bind' && m.Destination === ctx.search.containerDataDir)?.Source;
}

/** Owner and mode of a bind-mounted data folder, as the restore recreates them on a fresh host. */
export async function dataFolderOwner(ctx: SearchContext<BackupContext>): Promise<{ dataOwner?: string; dataMode?: string }> {
  const dataDir = await dataFolder(ctx);
  if (!dataDir) return {};
  const data = await folderOwner(ownerRun(ctx, dataDir), '/data');
  return { dataOwner: data.owner, dataMode: data.mode };
}

/** For an instance left out of a backup: who owns the data and repository folders, which a fresh host must recreate. */
export async function omittedFacts(ctx: SearchContext<BackupContext>): Promise<Record<string, unknown>> {
  const repo = await folderOwner(ownerRun(ctx, await repoFolder(ctx, (await searchContainer(ctx)).id)), '/data');
  return { flavour: ctx.search.flavour, repositoryOwner: repo.owner, repositoryMode: repo.mode, ...(await dataFolderOwner(ctx)) };
}

function ownerRun(ctx: SearchContext<BackupContext>, folder: string): TreeHelperRun {
  return { docker: ctx.docker, image: ctx.config.helperImage, runId: ctx.runId, purpose: 'owner of a folder', signal: ctx.signal, mounts: [{ source: folder, target: '/data', readOnly: true }] };
}

function helper(ctx: SearchContext<BackupContext>, purpose: string, hostRepo: string): TreeHelperRun {
  return {
    docker: ctx.docker, image: ctx.config.helperImage, runId: ctx.runId, purpose, signal: ctx.signal,
    mounts: [{ source: hostRepo, target: '/snapshots' }, { source: ctx.staging.pipeDir, target: '/out' }],
  };
}

async function registerRepository(ctx: SearchContext<BackupContext>, api: SearchApi, location: string): Promise<void> {
  try {
    await api.request('PUT', `/_snapshot/${ctx.search.repository}`, { type: 'fs', settings: { location } }, { verify: 'true' });
  } catch (error) {
    const container = await searchContainer(ctx);
    const uid = await ctx.docker.exec(container.id, ['id', '-u']).then((r) => r.stdout.trim()).catch(() => '?');
    const hostRepo = await repoFolder(ctx, container.id);
    throw new PreflightError(`${ctx.search.label} cannot write its snapshot repository at ${location} (${hostRepo} on this host)`, {
      hint: `make ${hostRepo} writable by the search engine's user (uid ${uid}): sudo chown ${uid}:${uid} ${hostRepo}; and check path.repo lists ${ctx.search.containerRepoDir}`,
      details: (error as Error).message,
      cause: error,
    });
  }
}

/**
 * A finished run unregisters its repository, so one still registered here
 * under the backup lock was left by a killed run: its snapshots are deleted
 * (which also stops one still in progress, that would otherwise block the
 * new registration), the registration removed and its folder emptied.
 */
async function removeLeftRepository(ctx: SearchContext<BackupContext>, api: SearchApi, containerId: string): Promise<void> {
  const { repository, containerRepoDir } = ctx.search;
  const registered = await api.request<Record<string, { settings?: { location?: string; readonly?: string | boolean } }>>('GET', `/_snapshot/${repository}`).catch(() => undefined);
  const settings = registered?.[repository]?.settings;
  const folder = settings?.location?.startsWith(`${containerRepoDir}/hossadm-`) ? settings.location.slice(containerRepoDir.length + 1) : undefined;
  if (!folder || folder.includes('/')) return;
  if (String(settings?.readonly) !== 'true') {
    const { snapshots } = await api.request<{ snapshots: SnapshotInfo[] }>('GET', `/_snapshot/${repository}/_all`).catch(() => ({ snapshots: [] as SnapshotInfo[] }));
    for (const s of snapshots) await api.request('DELETE', `/_snapshot/${repository}/${s.snapshot}`).catch(() => undefined);
  }
  await api.request('DELETE', `/_snapshot/${repository}`);
  const hostRepo = await repoFolder(ctx, containerId);
  await removeTree(helper(ctx, 'remove a left snapshot folder', hostRepo), `/snapshots/${folder}`);
  ctx.reporter.warn(`removed the snapshot repository ${repository} (${settings!.location}) and its folder, left by an interrupted run`);
}

export async function preflightSearch(ctx: SearchContext<BackupContext>): Promise<BackupFacts> {
  const container = await searchContainer(ctx);
  await repoFolder(ctx, container.id);
  const api = await connectSearch(ctx);
  try {
    const engine = await liveEngine(api);
    if (engine.flavour !== ctx.search.flavour) {
      throw new PreflightError(`the ${ctx.search.service} service runs ${engine.flavour} ${engine.version}, but the profile's ${ctx.search.id} instance is for ${ctx.search.flavour}`, {
        hint: `set "flavour": "${engine.flavour}" for ${ctx.search.id} in the stack profile`,
      });
    }
    const settings = await api.request<{ nodes: Record<string, { settings: Record<string, unknown> }> }>('GET', '/_nodes/_local/settings', undefined, { flat_settings: 'true' });
    const nodeSettings = Object.values(settings.nodes)[0]?.settings ?? {};
    const repoPaths = Object.entries(nodeSettings).filter(([k]) => k === 'path.repo' || k.startsWith('path.repo.')).flatMap(([, v]) => (Array.isArray(v) ? v : [v])).map(String);
    if (!repoPaths.includes(ctx.search.containerRepoDir)) {
      throw new PreflightError(`${ctx.search.label}'s path.repo does not list ${ctx.search.containerRepoDir} (it has: ${repoPaths.join(', ') || 'nothing'})`, {
        hint: `add path.repo: ["${ctx.search.containerRepoDir}"] to ${ctx.search.flavour}.yml in ${ctx.config.configDir} and restart the ${ctx.search.service} service`,
      });
    }
    // A red index cannot be snapshotted: say so now, before any service stops.
    const health = await api.request<{ status: string }>('GET', '/_cluster/health');
    if (health.status === 'red') {
      const red = await api.request<{ index: string }[]>('GET', '/_cat/indices', undefined, { format: 'json', health: 'red', h: 'index' });
      throw new PreflightError(`${ctx.search.label} cluster is red: ${red.map((r) => r.index).join(', ') || 'unassigned primaries'}`, {
        hint: 'fix or delete the red indices (GET _cluster/allocation/explain says why they are unassigned), then run the backup again',
      });
    }
    await removeLeftRepository(ctx, api, container.id);
    await registerRepository(ctx, api, `${ctx.search.containerRepoDir}/${folderName(ctx.runId)}`);
    const indices = await api.request<{ 'store.size': string }[]>('GET', '/_cat/indices', undefined, { format: 'json', bytes: 'b', h: 'store.size' });
    const estimatedBytes = indices.reduce((sum, i) => sum + Number(i['store.size'] ?? 0), 0);
    return { versions: { [ctx.search.flavour]: engine.version }, estimatedBytes };
  } finally {
    await api.close();
  }
}

export function searchBackupTask(ctx: SearchContext<BackupContext>): BackupTask {
  const { repository } = ctx.search;
  const snapshot = `hossadm-snap-${ctx.runId}`;
  let api: SearchApi | undefined;
  let counts: Record<string, number> = {};
  let hostRepo = '';
  let started = false;
  let countsLive = ctx.mode === 'hot';

  // Also after a failure before prepare: the pre-flight registered the repository already.
  const cleanup = async () => {
    api ??= await connectSearch(ctx).catch(() => undefined);
    if (!api) return;
    if (!hostRepo) hostRepo = await searchContainer(ctx).then((c) => repoFolder(ctx, c.id)).catch(() => '');
    if (started) await api.request('DELETE', `/_snapshot/${repository}/${snapshot}`).catch(() => undefined);
    await api.request('DELETE', `/_snapshot/${repository}`).catch(() => undefined);
    if (hostRepo) await removeTree(helper(ctx, 'remove snapshot folder', hostRepo), `/snapshots/${folderName(ctx.runId)}`).catch(() => undefined);
    await api.close().catch(() => undefined);
    api = undefined;
  };

  return {
    async prepare() {
      api = await connectSearch(ctx);
      hostRepo = await repoFolder(ctx, (await searchContainer(ctx)).id);
    },
    ...frozenIn([{ label: `${ctx.search.id} snapshot start`, mounts: [], run: async (allWritersStopped) => {
      const indices = await userIndices(api!);
      counts = await countDocuments(api!, indices);
      await api!.request('PUT', `/_snapshot/${repository}/${snapshot}`, { indices: '*,-.*', include_global_state: true, ignore_unavailable: false }, { wait_for_completion: 'false' });
      started = true;
      ctx.reporter.info(`  ${ctx.search.id}: snapshot ${snapshot} started (${indices.length} indices)`);
      // With writers running the counts hold for the snapshot only if they did not move across its start.
      if (!allWritersStopped && !countsLive) countsLive = JSON.stringify(await countDocuments(api!, indices)) !== JSON.stringify(counts);
    } }]),
    async finish(): Promise<ComponentRecord> {
      try {
        const info = await ctx.reporter.step(`${ctx.search.id} snapshot ${snapshot}`, () =>
          pollUntil(`the ${ctx.search.label} snapshot`, async () => {
            const { snapshots } = await api!.request<{ snapshots: SnapshotInfo[] }>('GET', `/_snapshot/${repository}/${snapshot}`);
            const current = snapshots[0];
            return current && current.state !== 'IN_PROGRESS' && current.state !== 'STARTED' ? current : undefined;
          }),
          (s) => `${s.state}, ${s.shards?.successful ?? 0}/${s.shards?.total ?? 0} shards`,
        );
        const problem = snapshotProblem(info, ctx.search.label);
        if (problem) throw problem;
        let count: TreeCount | undefined;
        await ctx.reporter.step(`${ctx.search.id} repository`, () =>
          readFromContainer(
            { hostDir: ctx.staging.pipeDir, name: `${ctx.search.id}-repository.tar` },
            (input) => ctx.staging.add(ctx.search.id, repositoryMember(ctx.search.id), input),
            async () => {
              count = await tarTreeOut(helper(ctx, 'backup snapshot repository', hostRepo), `/snapshots/${folderName(ctx.runId)}`, `/out/${ctx.search.id}-repository.tar`);
            },
          ),
          (m) => `${m.size} bytes`,
        );
        // Bind-mounted folders are created root-owned by the engine on a new
        // host; the search engine's own uid must own its data folder, so the
        // owner is recorded here and recreated by the restore.
        return {
          details: {
            flavour: ctx.search.flavour,
            snapshot,
            indices: info.indices.sort(),
            repositoryOwner: count?.owner ?? '1000:1000',
            repositoryMode: count?.mode ?? '755',
            ...(await dataFolderOwner(ctx)),
          },
          fingerprint: { indices: counts },
          live: countsLive,
        };
      } finally {
        await cleanup();
      }
    },
    abort: cleanup,
  };
}
