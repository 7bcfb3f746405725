// A search engine's indices through its snapshot API, as one kind with a
// flavour: OpenSearch (1.x/2.x) or Elasticsearch 7 (up to 7.10.2, the last
// Apache-2.0 release). Both speak the same _snapshot REST API, so one code
// path serves them; the flavour names the engine the profile expects, the
// versions key in the manifest, and which engine may read a snapshot back.
import { number, object, oneOf, onlyKeys, text } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { ConfigError } from '../../errors.ts';
import type { Component, RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { omittedFacts, preflightSearch, searchBackupTask } from './search-backup.ts';
import { withSearch, type Flavour } from './search-client.ts';
import { searchRestoreTask } from './search-restore.ts';
import { searchRecognisers } from './search-recognise.ts';

export interface SearchConfig {
  flavour: Flavour;
  service: string;
  port: number;
  /** Name of the fs repository registered for the run. */
  repository: string;
  /** path.repo inside the container (a bind-mounted host folder). */
  containerRepoDir: string;
  /** The engine's data folder inside the container (its owner is recorded for a fresh host). */
  containerDataDir: string;
  /** The host side of path.repo, where a fresh-host restore places the snapshot. */
  hostRepoDir: ValueRef;
  /** The data folder on the host, when it is a bind mount. */
  dataDir?: ValueRef;
}

export interface SearchSettings extends Omit<SearchConfig, 'hostRepoDir' | 'dataDir'> {
  id: string;
  /** For messages: OpenSearch, Elasticsearch. */
  label: string;
  hostRepoDir: string;
  dataDir: string | undefined;
}

export type SearchContext<C extends RunContext = RunContext> = C & { search: SearchSettings };

const LABEL: Record<Flavour, string> = { opensearch: 'OpenSearch', elasticsearch: 'Elasticsearch' };

function createSearch(id: string, config: SearchConfig, values: Values): Component {
  const hostRepoDir = values.path(config.hostRepoDir, `the ${LABEL[config.flavour]} snapshot folder`);
  if (!hostRepoDir) throw new ConfigError(`the snapshot folder of ${id} cannot be resolved`, { hint: `set what ${JSON.stringify(config.hostRepoDir)} names in ${values.envPath}` });
  const search: SearchSettings = {
    ...config,
    id,
    label: LABEL[config.flavour],
    hostRepoDir,
    dataDir: config.dataDir ? values.path(config.dataDir, `the ${LABEL[config.flavour]} data folder`) : undefined,
  };
  return {
    id,
    kind: 'search-snapshot',
    planBackup: () => [
      `register fs repository ${search.repository} under ${search.containerRepoDir} of ${search.service} (${search.label}) and verify it`,
      'snapshot all indices with global state (started while writers are stopped); require SUCCESS and 0 failed shards',
      `copy the repository folder with a helper into ${id}/repository.tar`,
    ],
    keepRunning: () => [search.service],
    hostPaths: () => [
      { what: `the ${id} data folder`, path: search.dataDir },
      { what: `the ${id} snapshot folder`, path: search.hostRepoDir },
    ],
    // The repository is unpacked under path.repo, which lives in BACKUP_ROOT in the reference stacks.
    restoresInto: () => 'backup-root',
    probes: () => [{
      name: `${search.label} cluster is not red`,
      run: (ctx: RunContext) => withSearch({ ...ctx, search }, async (api) => {
        const health = await api.request<{ status: string }>('GET', '/_cluster/health');
        if (health.status === 'red') throw new Error('cluster health red');
        return `cluster health ${health.status}`;
      }),
    }],
    preflightBackup: (ctx) => preflightSearch({ ...ctx, search }),
    // Left out, the index is rebuilt by the application; a fresh host still needs its folders owned by the engine's user.
    omitted: (ctx) => omittedFacts({ ...ctx, search }),
    backup: (ctx) => searchBackupTask({ ...ctx, search }),
    restore: (ctx) => searchRestoreTask({ ...ctx, search }),
  };
}

export const searchSnapshotKind: ComponentKind<SearchConfig> = {
  name: 'search-snapshot',
  summary: 'OpenSearch or Elasticsearch 7 indices, by the snapshot API into a bind-mounted path.repo folder',
  recognisers: searchRecognisers,
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['flavour', 'service', 'port', 'repository', 'containerRepoDir', 'containerDataDir', 'hostRepoDir', 'dataDir']);
    return {
      flavour: oneOf(c.flavour, `${at}.flavour`, ['opensearch', 'elasticsearch'] as const, 'opensearch'),
      service: text(c.service, `${at}.service`),
      port: c.port === undefined ? 9200 : number(c.port, `${at}.port`),
      repository: text(c.repository ?? 'hossadm-backup-repository', `${at}.repository`),
      containerRepoDir: text(c.containerRepoDir, `${at}.containerRepoDir`),
      containerDataDir: text(c.containerDataDir, `${at}.containerDataDir`),
      hostRepoDir: parseValueRef(c.hostRepoDir, `${at}.hostRepoDir`),
      ...(c.dataDir === undefined ? {} : { dataDir: parseValueRef(c.dataDir, `${at}.dataDir`) }),
    };
  },
  create: createSearch,
};
