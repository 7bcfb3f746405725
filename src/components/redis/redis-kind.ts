// Redis (7.0) as a kind: the whole dataset of one server, every logical
// database, as one RDB. Backup takes a point-in-time RDB with
// `redis-cli --rdb` inside the container while Redis keeps serving;
// restore places it with the server stopped and rebuilds the append-only
// file from it (see redis-restore.ts for why). The fingerprint compares
// every key, value and expiry deadline (redis-fingerprint.ts).
import { number, object, onlyKeys, text } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { ConfigError } from '../../errors.ts';
import type { Component, RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { preflightRedis, rdbMember, redisBackupTask } from './redis-backup.ts';
import { info, withRedis, type RedisSettings } from './redis-server.ts';
import { redisRestoreTask } from './redis-restore.ts';
import { redisRecogniser } from './redis-recognise.ts';

export interface RedisConfig {
  service: string;
  password?: ValueRef;
  port: number;
  /** The data folder inside the container (the server's `dir`). */
  dataDir: string;
  /** The server's `databases` setting: logical databases 0..N-1 are fingerprinted. */
  databases: number;
}

function createRedis(id: string, config: RedisConfig, values: Values): Component {
  const redis: RedisSettings = {
    id,
    service: config.service,
    password: config.password ? values.required(config.password, 'the Redis password') : undefined,
    port: config.port,
    dataDir: config.dataDir,
    databases: config.databases,
  };
  return {
    id,
    kind: 'redis',
    planBackup: () => [
      `redis-cli --rdb in ${redis.service} (a point-in-time RDB of every database; Redis keeps serving), taken while writers are stopped`,
      `copy it with a helper into ${rdbMember(id)}, then remove it from ${redis.dataDir}`,
    ],
    keepRunning: () => [redis.service],
    hostPaths: () => [],
    // The RDB waits in BACKUP_ROOT until Redis runs, then goes into its data folder.
    restoresInto: () => 'backup-root',
    probes: () => [{
      name: `Redis answers on ${redis.service}`,
      run: (ctx: RunContext) => withRedis({ ...ctx, redis }, async (r) => `Redis ${(await info(r, 'server')).get('redis_version') ?? '?'}`),
    }],
    preflightBackup: (ctx) => preflightRedis({ ...ctx, redis }),
    backup: (ctx) => redisBackupTask({ ...ctx, redis }),
    restore: (ctx) => redisRestoreTask({ ...ctx, redis }),
  };
}

export const redisKind: ComponentKind<RedisConfig> = {
  name: 'redis',
  summary: 'a Redis server\'s whole dataset as one RDB (redis-cli --rdb), restored with its append-only file rebuilt',
  recognisers: [redisRecogniser],
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['service', 'password', 'port', 'dataDir', 'databases']);
    const databases = c.databases === undefined ? 16 : number(c.databases, `${at}.databases`);
    if (!Number.isInteger(databases) || databases < 1) throw new ConfigError(`stack profile: "${at}.databases" must be a whole number of at least 1`);
    const dataDir = text(c.dataDir ?? '/data', `${at}.dataDir`);
    if (!dataDir.startsWith('/')) throw new ConfigError(`stack profile: "${at}.dataDir" must be an absolute path inside the container`);
    return {
      service: text(c.service, `${at}.service`),
      ...(c.password === undefined ? {} : { password: parseValueRef(c.password, `${at}.password`) }),
      port: c.port === undefined ? 6379 : number(c.port, `${at}.port`),
      dataDir,
      databases,
    };
  },
  create: createRedis,
};
