// How `hossadm init` recognises OpenSearch and Elasticsearch services and
// writes a search-snapshot instance: snapshots need path.repo on a writable
// bind-mounted folder; without one the data is copied as files.
import type { ServiceFacts } from '../../core/init/facts.ts';
import { bindAt, mountAt, type Recognised, type RecogniseContext, type ServiceRecogniser } from '../recogniser.ts';
import type { Flavour } from './search-client.ts';

function planSearch(flavour: Flavour, s: ServiceFacts, ctx: RecogniseContext): Recognised | undefined {
  const repoSetting = s.env['path.repo'] ?? s.env.path_repo;
  // path.repo set in the environment names the folder; else a writable bind-mounted folder named like one.
  const repo = repoSetting
    ? bindAt(s, repoSetting.split(',')[0]!.trim())
    : s.mounts.find((m) => m.type === 'bind' && !m.readOnly && m.isDir !== false && /snapshot|backup|repo/i.test(m.destination));
  if (!repo) {
    ctx.note(`${flavour} (${s.image}) without path.repo on a bind-mounted folder; its data is copied as files while it is stopped (set path.repo for snapshots)`);
    return undefined;
  }
  const dataDir = `/usr/share/${flavour}/data`;
  const data = mountAt(s, dataDir);
  return {
    config: {
      flavour,
      service: s.service,
      port: 9200,
      repository: `${ctx.project}-hossadm`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
      containerRepoDir: repo.destination,
      containerDataDir: dataDir,
      hostRepoDir: repo.source,
      ...(data?.type === 'bind' ? { dataDir: data.source } : {}),
    },
    claims: [repo, data],
    saves: `snapshots through ${repo.source}`,
  };
}

export const searchRecognisers: readonly ServiceRecogniser[] = [
  {
    name: 'search-opensearch',
    title: 'opensearch',
    images: [/opensearch(?!-dashboards)/],
    labels: ['opensearch', 'search-snapshot'],
    plan: (s, ctx) => planSearch('opensearch', s, ctx),
  },
  {
    name: 'search-elasticsearch',
    title: 'elasticsearch',
    images: [/^elasticsearch/],
    labels: ['elasticsearch'],
    plan: (s, ctx) => planSearch('elasticsearch', s, ctx),
  },
];
