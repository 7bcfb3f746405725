// The Redis server of one instance: its container, the mount that holds its
// data folder (a named volume or a bind mount, found from the running
// container), a logged-in connection at the container's address, and what
// INFO and CONFIG GET say about it.
import { relative } from 'node:path';
import { findServiceContainer, requireRunning } from '../../docker/compose-services.ts';
import type { ContainerInfo } from '../../docker/types.ts';
import { OperationError, PreflightError } from '../../errors.ts';
import type { RunContext } from '../component.ts';
import type { TreeSource } from '../tree/tree-copy.ts';
import { asText, openRedis, parseInfo, RedisReplyError, type RedisConnection } from './resp.ts';

export interface RedisSettings {
  id: string;
  service: string;
  password: string | undefined;
  port: number;
  /** The data folder inside the container (`dir` of the server). */
  dataDir: string;
  /** Logical databases the server has (`databases`), the fingerprint's upper bound. */
  databases: number;
}

export type RedisContext<C extends RunContext = RunContext> = C & { redis: RedisSettings };

export interface RedisData {
  container: ContainerInfo;
  /** Volume name or host path of the mount holding the data folder. */
  mountSource: string;
  /** The data folder relative to that mount ("" when the mount is the data folder). */
  subdir: string;
}

export async function redisContainer(ctx: RedisContext): Promise<ContainerInfo> {
  return findServiceContainer(ctx.docker, ctx.config.project, ctx.redis.service);
}

export async function redisData(ctx: RedisContext, container: ContainerInfo): Promise<RedisData> {
  const info = await ctx.docker.inspectContainer(container.id);
  const { dataDir, service } = ctx.redis;
  const mount = (info.Mounts ?? [])
    .filter((m) => dataDir === m.Destination || dataDir.startsWith(`${m.Destination}/`))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  if (!mount) {
    throw new PreflightError(`the ${service} container keeps ${dataDir} in its own layer, not in a volume or a bind mount`, {
      hint: `mount a volume or a host folder at ${dataDir} in the ${service} service (and check "dataDir" of the ${ctx.redis.id} component)`,
    });
  }
  return { container, mountSource: mount.Type === 'volume' ? mount.Name! : mount.Source, subdir: relative(mount.Destination, dataDir) };
}

export function dataTree(data: RedisData, label: string, entries?: string[]): TreeSource {
  return { source: data.mountSource, label, subdir: data.subdir, ...(entries ? { entries } : {}) };
}

/**
 * A connection logged in with the instance's password. A refused password
 * is a pre-flight failure (nothing was changed yet wherever this is first
 * called); an unreachable server is an operation failure.
 */
export async function connectRedis(ctx: RedisContext, container: ContainerInfo): Promise<RedisConnection> {
  requireRunning(container);
  const address = await ctx.docker.containerAddress(container.id);
  const { port, service, password, id } = ctx.redis;
  let connection: RedisConnection;
  try {
    connection = await openRedis(address, port);
  } catch (error) {
    throw new OperationError(`cannot reach Redis of ${service} at ${address}:${port}: ${(error as Error).message}`, {
      hint: `check that the ${service} container answers on port ${port} (docker logs ${container.name})`,
      cause: error,
    });
  }
  if (password !== undefined) {
    try {
      await connection.call('AUTH', password);
    } catch (error) {
      await connection.close();
      if (!(error instanceof RedisReplyError)) throw new OperationError(`Redis of ${service} dropped the connection at AUTH: ${(error as Error).message}`, { cause: error });
      throw new PreflightError(`Redis of ${service} refused the password of ${id} (${error.code})`, {
        hint: `the password the profile names (in the stack's .env) must be the server's requirepass`,
      });
    }
  }
  try {
    await connection.call('PING');
    return connection;
  } catch (error) {
    await connection.close();
    if (error instanceof RedisReplyError && error.code === 'NOAUTH') {
      throw new PreflightError(`Redis of ${service} asks for a password and ${id} has none`, { hint: `set "password" of the ${id} component in the stack profile` });
    }
    if (error instanceof RedisReplyError && error.code === 'LOADING') throw new OperationError(`Redis of ${service} is still loading its data`, { cause: error });
    throw new OperationError(`Redis of ${service} failed to answer PING: ${(error as Error).message}`, { cause: error });
  }
}

export async function withRedis<T>(ctx: RedisContext, work: (redis: RedisConnection, container: ContainerInfo) => Promise<T>): Promise<T> {
  const container = await redisContainer(ctx);
  const connection = await connectRedis(ctx, container);
  try {
    return await work(connection, container);
  } finally {
    await connection.close();
  }
}

export async function info(redis: RedisConnection, section: string): Promise<Map<string, string>> {
  return parseInfo(await redis.call('INFO', section));
}

/** What a restore needs to know about the live server's persistence. */
export interface Persistence {
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appendfilename: string;
  appenddirname: string;
}

const DEFAULTS: Persistence = { dir: '', dbfilename: 'dump.rdb', appendonly: false, appendfilename: 'appendonly.aof', appenddirname: 'appendonlydir' };
const PLAIN_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** CONFIG GET of the persistence settings; names that are not plain file names are refused. */
export async function persistence(ctx: RedisContext, redis: RedisConnection): Promise<Persistence> {
  const reply = await redis.call('CONFIG', 'GET', '*');
  const values = new Map<string, string>();
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) values.set(asText(reply[i]!), asText(reply[i + 1]!));
  const result: Persistence = {
    dir: values.get('dir') ?? ctx.redis.dataDir,
    dbfilename: values.get('dbfilename') ?? DEFAULTS.dbfilename,
    appendonly: values.get('appendonly') === 'yes',
    appendfilename: values.get('appendfilename') ?? DEFAULTS.appendfilename,
    appenddirname: values.get('appenddirname') ?? DEFAULTS.appenddirname,
  };
  for (const name of [result.dbfilename, result.appendfilename, result.appenddirname]) {
    if (!PLAIN_FILE.test(name)) throw new PreflightError(`Redis of ${ctx.redis.service} names its files "${name}", which hossadm does not place`, { hint: 'use plain names for dbfilename, appendfilename and appenddirname' });
  }
  if (result.dir !== ctx.redis.dataDir) {
    throw new PreflightError(`Redis of ${ctx.redis.service} keeps its files in ${result.dir}, but the ${ctx.redis.id} component says ${ctx.redis.dataDir}`, {
      hint: `set "dataDir": "${result.dir}" for ${ctx.redis.id} in the stack profile`,
    });
  }
  return result;
}

export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `read` returns a value; OperationError naming `what` after the timeout. */
export async function pollRedis<T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number, signal: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    signal.throwIfAborted();
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof PreflightError) throw error;
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new OperationError(`${what} did not happen within ${Math.round(timeoutMs / 1000)} s${last ? ` (${last})` : ''}`);
    await sleep(250);
  }
}
