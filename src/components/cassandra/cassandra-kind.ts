// Apache Cassandra (4.0 and later) as a kind: the configured keyspaces of
// one cluster of one or more nodes (one compose service each). Backup takes
// one snapshot tag on every node at the same moment, saves the schema and
// streams each node's snapshot files out through a helper; restore recreates
// the schema and loads each node's files with `nodetool import` (see
// cassandra-restore.ts for why import and not sstableloader).
import { number, object, onlyKeys, text, textList } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { ConfigError } from '../../errors.ts';
import type { Component, RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { cassandraBackupTask, preflightCassandra } from './cassandra-backup.ts';
import { connectNodes, findNodes } from './cassandra-nodes.ts';
import { cassandraRestoreTask } from './cassandra-restore.ts';
import { cassandraRecogniser } from './cassandra-recognise.ts';

export interface CassandraConfig {
  /** One compose service per node, in a fixed order (a restore maps nodes by service). */
  services: string[];
  keyspaces: string[];
  user?: ValueRef;
  password?: ValueRef;
  port: number;
  /** The data folder inside the containers. */
  dataDir: string;
}

export interface CassandraSettings {
  id: string;
  services: string[];
  keyspaces: string[];
  user: string | undefined;
  password: string | undefined;
  port: number;
  dataDir: string;
}

function createCassandra(id: string, config: CassandraConfig, values: Values): Component {
  const cassandra: CassandraSettings = {
    id,
    services: config.services,
    keyspaces: config.keyspaces,
    user: config.user ? values.required(config.user, 'the Cassandra user') : undefined,
    password: config.password ? values.required(config.password, 'the Cassandra password') : undefined,
    port: config.port,
    dataDir: config.dataDir,
  };
  return {
    id,
    kind: 'cassandra',
    planBackup: () => [
      `nodetool snapshot of ${cassandra.keyspaces.join(', ')} on ${cassandra.services.join(', ')} at the same moment (while writers are stopped), schema by DESCRIBE`,
      `copy each node's snapshot files with a helper into ${cassandra.services.map((s) => `${id}/${s}.tar`).join(', ')}, then clear the snapshot`,
    ],
    keepRunning: () => [...cassandra.services],
    hostPaths: () => [],
    // Node files wait in BACKUP_ROOT until the cluster runs, then go into each node's data folder.
    restoresInto: () => 'backup-root',
    probes: () => [{
      name: `Cassandra answers on ${cassandra.services.join(', ')}`,
      async run(ctx: RunContext) {
        const c = { ...ctx, cassandra };
        const session = await connectNodes(c, await findNodes(c));
        try {
          const rows = await session.execute('SELECT release_version FROM system.local');
          return `release ${String(rows[0]?.get('release_version'))}`;
        } finally {
          await session.close();
        }
      },
    }],
    preflightBackup: (ctx) => preflightCassandra({ ...ctx, cassandra }),
    backup: (ctx) => cassandraBackupTask({ ...ctx, cassandra }),
    restore: (ctx) => cassandraRestoreTask({ ...ctx, cassandra }),
  };
}

const NAME = /^[A-Za-z0-9_]{1,48}$/;

export const cassandraKind: ComponentKind<CassandraConfig> = {
  name: 'cassandra',
  summary: 'Cassandra keyspaces of a cluster of one or more nodes, by nodetool snapshot and nodetool import',
  recognisers: [cassandraRecogniser],
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['services', 'keyspaces', 'user', 'password', 'port', 'dataDir']);
    const keyspaces = textList(c.keyspaces, `${at}.keyspaces`);
    for (const ks of keyspaces) if (!NAME.test(ks)) throw new ConfigError(`stack profile: "${at}.keyspaces" holds "${ks}", not a Cassandra keyspace name`);
    return {
      services: textList(c.services ?? ['cassandra'], `${at}.services`),
      keyspaces,
      ...(c.user === undefined ? {} : { user: parseValueRef(c.user, `${at}.user`) }),
      ...(c.password === undefined ? {} : { password: parseValueRef(c.password, `${at}.password`) }),
      port: c.port === undefined ? 9042 : number(c.port, `${at}.port`),
      dataDir: text(c.dataDir ?? '/var/lib/cassandra/data', `${at}.dataDir`),
    };
  },
  create: createCassandra,
};
