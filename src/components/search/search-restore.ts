// Search-engine restore (OpenSearch, Elasticsearch 7): the archived repository folder is placed under the
// bind-mounted path.repo, registered read-only, and the snapshot restored
// with its global state. Indices are deleted first: restoring over an open
// index fails, and indices created after the backup would be stale leftovers.
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeToContainer } from '../../core/fifo.ts';
import { makeFolder, removeTree, tarTreeIn, type TreeHelperRun } from '../../docker/tree-helper.ts';
import { OperationError, PreflightError } from '../../errors.ts';
import type { RestoreContext, RestoreTask } from '../component.ts';
import type { SearchContext } from './search-kind.ts';
import { connectSearch, countDocuments, liveEngine, pollUntil, repoFolder, searchContainer, userIndices, withSearch, type SearchApi } from './search-client.ts';

const RESTORE_FOLDER = 'hossadm-restore';

export function searchRestoreTask(ctx: SearchContext<RestoreContext>): RestoreTask {
  const details = ctx.record.details as { flavour?: string; snapshot?: string; indices?: string[]; repositoryOwner?: string; repositoryMode?: string; dataOwner?: string; dataMode?: string };
  const snapshot = details.snapshot ?? '';
  const { repository, containerRepoDir } = ctx.search;
  let hostRepo = ctx.search.hostRepoDir;

  const helper = (purpose: string, extra: TreeHelperRun['mounts'] = []): TreeHelperRun => ({
    docker: ctx.docker, image: ctx.config.helperImage, runId: ctx.runId, purpose, signal: ctx.signal,
    mounts: [{ source: hostRepo, target: '/snapshots' }, ...extra],
  });

  // Snapshots are readable by the same engine, of the same major version or the next one only.
  const checkReadable = async (api: SearchApi) => {
    const engine = await liveEngine(api);
    const savedFlavour = (details.flavour as string | undefined) ?? 'opensearch';
    if (engine.flavour !== savedFlavour) {
      throw new PreflightError(`the archive holds a ${savedFlavour} snapshot but the ${ctx.search.service} service runs ${engine.flavour} ${engine.version}`, {
        hint: `run ${savedFlavour} as the backup was taken with`,
      });
    }
    const live = engine.version;
    const saved = ctx.record.versions?.[savedFlavour] ?? live;
    const [liveMajor, savedMajor] = [Number(live.split('.')[0]), Number(saved.split('.')[0])];
    if (liveMajor < savedMajor || liveMajor > savedMajor + 1) {
      throw new PreflightError(`${ctx.search.label} ${live} cannot read a snapshot taken by ${saved} (same major or one newer only)`, { hint: `run the ${ctx.search.label} version the backup was taken with` });
    }
  };

  return {
    async describe() {
      if (ctx.situation === 'fresh') return [`${ctx.search.id}: snapshot ${snapshot} restored (${(details.indices ?? []).length} indices) once the stack runs`];
      const current = await withSearch(ctx, userIndices).catch(() => [] as string[]);
      const lines = [`${ctx.search.id}: snapshot ${snapshot} restored with global state: ${(details.indices ?? []).join(', ') || 'no indices'}`];
      if (current.length > 0) lines.push(`${ctx.search.id}: these live indices are deleted first: ${current.join(', ')}`);
      return lines;
    },

    async preflight() {
      if (!/^[a-z0-9-]+$/.test(snapshot)) throw new PreflightError(`the archive names no valid ${ctx.search.label} snapshot ("${snapshot}")`);
      if (ctx.situation === 'in-place') {
        const container = await searchContainer(ctx);
        hostRepo = await repoFolder(ctx, container.id);
        await withSearch(ctx, checkReadable);
      }
    },

    async receive(_member, input) {
      // The repository root must be writable by the search engine for later
      // backups; the archive recorded who owned it.
      await makeFolder(helper('prepare snapshot folder', []), '/snapshots', details.repositoryOwner ?? '1000:1000', details.repositoryMode ?? '755').catch(async (error) => {
        throw new OperationError(`cannot prepare the snapshot folder ${hostRepo}: ${(error as Error).message}`, { cause: error });
      });
      await ctx.reporter.step(`${ctx.search.id} repository`, () =>
        writeToContainer(
          { hostDir: ctx.pipeDir, name: `${ctx.search.id}-repository.tar` },
          (output) => pipeline(input, output),
          async () => {
            await tarTreeIn(helper('restore snapshot repository', [{ source: ctx.pipeDir, target: '/in', readOnly: true }]), `/snapshots/${RESTORE_FOLDER}`, `/in/${ctx.search.id}-repository.tar`);
          },
        ),
      );
    },

    async beforeStart() {
      // Left out of the archive, no member made the repository folder: make it as the engine's user had it.
      if (!details.snapshot && details.repositoryOwner) await makeFolder(helper('prepare snapshot folder'), '/snapshots', details.repositoryOwner, details.repositoryMode ?? '755');
      const dataDir = ctx.search.dataDir;
      if (!dataDir || !details.dataOwner) return;
      await makeFolder({ ...helper('prepare data folder'), mounts: [{ source: dirname(dataDir), target: '/parent' }] }, `/parent/${basename(dataDir)}`, details.dataOwner, details.dataMode ?? '755');
    },

    async load() {
      const api = await connectSearch(ctx);
      try {
        await ctx.reporter.step(`${ctx.search.id} cluster ready`, () =>
          pollUntil(`${ctx.search.label} answering`, () => api.request<{ status: string }>('GET', '/_cluster/health', undefined, { wait_for_status: 'yellow', timeout: '30s' }).then((h) => (h.status === 'red' ? undefined : h), () => undefined), 10 * 60_000),
        );
        // In place this was checked before anything changed; a fresh stack
        // has only now started, so here is the first moment it can be asked.
        if (ctx.situation === 'fresh') await checkReadable(api);
        await api.request('PUT', `/_snapshot/${repository}`, { type: 'fs', settings: { location: `${containerRepoDir}/${RESTORE_FOLDER}`, readonly: true } });
        const existing = await userIndices(api);
        if (existing.length > 0) {
          await ctx.reporter.step(`${ctx.search.id} delete ${existing.length} live indices`, () => api.request('DELETE', `/${existing.join(',')}`));
        }
        const result = await ctx.reporter.step(`${ctx.search.id} restore ${snapshot}`, () =>
          api.request<{ snapshot?: { shards: { total: number; failed: number; successful: number } } }>(
            'POST',
            `/_snapshot/${repository}/${snapshot}/_restore`,
            { indices: '*,-.*', include_global_state: true },
            { wait_for_completion: 'true' },
          ),
          (r) => `${r.snapshot?.shards.successful ?? 0}/${r.snapshot?.shards.total ?? 0} shards`,
        );
        const shards = result.snapshot?.shards;
        if (shards?.failed !== 0 || shards.successful !== shards.total) {
          throw new OperationError(`${ctx.search.label} restore of ${snapshot} finished with ${shards?.failed ?? '?'} failed shards`, {
            hint: 'check GET _cat/recovery and the search container logs',
          });
        }
        const restored = details.indices ?? [];
        if (restored.length > 0) {
          await pollUntil('the restored indices becoming available', async () => {
            const health = await api.request<{ status: string }>('GET', `/_cluster/health/${restored.join(',')}`, undefined, { wait_for_status: 'yellow', timeout: '30s' });
            return health.status === 'red' ? undefined : health;
          }, 10 * 60_000);
        }
      } finally {
        await api.request('DELETE', `/_snapshot/${repository}`).catch(() => undefined);
        await api.close().catch(() => undefined);
        await removeTree(helper('remove restored repository'), `/snapshots/${RESTORE_FOLDER}`).catch(() => undefined);
      }
    },

    async fingerprint() {
      return withSearch(ctx, async (api) => ({ indices: await countDocuments(api, await userIndices(api)) }));
    },
  };
}
