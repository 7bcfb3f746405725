// S3-compatible object storage as a kind (what Wire keeps in MinIO). Mode
// "s3" goes through the S3 API, so it works the same against any
// S3-compatible server: every bucket (or the listed ones) with its
// versioning state and policy, every object with its key, bytes, content
// type, user metadata and tags, streamed into one member per bucket
// (bucket-archive.ts) and streamed back on restore, large objects in
// multipart uploads. Mode "files" copies the server's data folder instead
// (objectstore-files.ts).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { text as readText } from 'node:stream/consumers';
import { number, object, oneOf, onlyKeys, optionalText, text, textList } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { findServiceContainer, requireRunning } from '../../docker/compose-services.ts';
import { ArchiveError, ConfigError, PreflightError } from '../../errors.ts';
import { type BackupContext, type BackupTask, type Component, type ComponentRecord, type ContentFingerprint, frozenIn, type Probe, type RestoreContext, type RestoreTask, type RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { bucketFingerprint, bucketTar, liveEntries, readBucketFile, type BucketSettings, type ObjectEntry, type StoredObject } from './bucket-archive.ts';
import { createObjectStoreFiles, DEFAULT_FILES_IMAGE } from './objectstore-files.ts';
import type { ObjectStoreClient, ObjectStoreSettings } from './object-client.ts';
import { s3Recogniser } from './objectstore-recognise.ts';

export interface ObjectStoreConfig {
  mode: 's3' | 'files';
  /** The compose service of the server (its address on the stack's network), unless `endpoint` names the server. */
  service?: string;
  endpoint?: string;
  port: number;
  region: string;
  /** Required in mode s3; in mode files only the probe after an upgrade uses them. */
  accessKey?: ValueRef;
  secretKey?: ValueRef;
  /** Only these buckets (default: every bucket the keys can list). */
  buckets?: string[];
  /** Objects larger than this go back in parts of this size (at least 5 MiB, as S3 requires). */
  multipartThreshold: number;
  /** Mode files: the server's data, a named volume of the project (as the compose files write it) or a host folder. */
  volume?: string;
  folder?: ValueRef;
  /** Mode files: the image whose GNU tar copies the data with its extended attributes. */
  image: string;
}

/** How hossadm reaches the server through the S3 API. */
interface S3Access {
  where: string;
  open(ctx: RunContext): Promise<ObjectStoreClient>;
  /** The server answers with these keys (after an upgrade). */
  probe: Probe;
}

function s3Access(config: ObjectStoreConfig, values: Values, accessKeyRef: ValueRef, secretKeyRef: ValueRef): S3Access {
  const accessKey = values.required(accessKeyRef, 'the object store access key');
  const secretKey = values.required(secretKeyRef, 'the object store secret key');
  const where = config.endpoint ?? `service ${config.service}`;
  const open = async (ctx: RunContext): Promise<ObjectStoreClient> => {
    let endpoint = config.endpoint;
    if (!endpoint) {
      const container = await findServiceContainer(ctx.docker, ctx.config.project, config.service!);
      requireRunning(container);
      endpoint = `http://${await ctx.docker.containerAddress(container.id)}:${config.port}`;
    }
    const settings: ObjectStoreSettings = { endpoint, region: config.region, accessKey, secretKey };
    // The S3 SDK is loaded here, not at start: stacks without an object store do not pay for its memory.
    return ctx.connect?.objectStore?.(settings) ?? (await import('./object-client.ts')).openS3(settings);
  };
  const probe: Probe = {
    name: `the object store answers (${where})`,
    async run(ctx) {
      const client = await open(ctx);
      try {
        return `${(await client.listBuckets()).length} buckets`;
      } finally {
        await client.close();
      }
    },
  };
  return { where, open, probe };
}

const MIB = 1024 * 1024;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const bucketsMember = (id: string) => `${id}/buckets.json`;
export const bucketMember = (id: string, bucket: string) => `${id}/${bucket}.tar`;

interface Details {
  buckets?: string[];
  objects?: number;
  /** Whether the profile listed the buckets (a restore then leaves other buckets alone). */
  listed?: boolean;
}

const validBucket = (name: string) => BUCKET.test(name) && !name.includes('..');

function createObjectStore(id: string, config: ObjectStoreConfig, values: Values): Component {
  if (config.mode === 'files') {
    const probes = config.accessKey && config.secretKey ? [s3Access(config, values, config.accessKey, config.secretKey).probe] : [];
    return createObjectStoreFiles(id, { ...config, service: config.service! }, values, probes);
  }
  const { where, open, probe } = s3Access(config, values, config.accessKey!, config.secretKey!);

  const bucketsOf = async (client: ObjectStoreClient): Promise<string[]> => {
    const live = await client.listBuckets();
    if (!config.buckets) return live.filter(validBucket);
    const missing = config.buckets.filter((b) => !live.includes(b));
    if (missing.length > 0) {
      throw new PreflightError(`bucket(s) ${missing.join(', ')} do not exist in the object store (${where})`, { hint: `check the buckets of the ${id} component in the stack profile` });
    }
    return [...config.buckets];
  };

  const settingsOf = async (client: ObjectStoreClient, name: string): Promise<BucketSettings> => ({ name, versioning: await client.versioning(name), policy: await client.policy(name) });

  return {
    id,
    kind: 'objectstore',
    planBackup: () => [
      `S3 API at ${where}: ${config.buckets ? `buckets ${config.buckets.join(', ')}` : 'every bucket'} with versioning and policy, every object with key, bytes, content type, metadata and tags`,
      `one member per bucket, ${id}/<bucket>.tar, streamed from the server (while writers are stopped, or live with --hot)`,
    ],
    keepRunning: () => (config.service ? [config.service] : []),
    hostPaths: () => [],
    // Bucket files wait in BACKUP_ROOT until the server runs, then stream to it.
    restoresInto: () => 'backup-root',
    probes: () => [probe],

    async preflightBackup(ctx) {
      const client = await open(ctx);
      try {
        let estimatedBytes = 0;
        for (const bucket of await bucketsOf(client)) for await (const o of client.listKeys(bucket)) estimatedBytes += o.size + 1024;
        return { versions: {}, estimatedBytes };
      } finally {
        await client.close();
      }
    },

    backup(ctx: BackupContext): BackupTask {
      let client: ObjectStoreClient | undefined;
      let record: ComponentRecord | undefined;
      const close = async () => {
        await client?.close().catch(() => undefined);
        client = undefined;
      };
      const copy = async () => {
        client = await open(ctx);
        const buckets = await bucketsOf(client);
        const settings: BucketSettings[] = [];
        const fingerprint: ContentFingerprint = {};
        let objects = 0;
        for (const bucket of buckets) {
          const s = await settingsOf(client, bucket);
          const entries: ObjectEntry[] = [];
          await ctx.reporter.step(`${id} bucket ${bucket}`, () => ctx.staging.add(id, bucketMember(id, bucket), Readable.from(bucketTar(client!, bucket, new Date(), (e) => entries.push(e)))), (m) => `${entries.length} objects, ${m.size} bytes`);
          settings.push(s);
          fingerprint[bucket] = bucketFingerprint(entries, s);
          objects += entries.length;
        }
        await ctx.staging.add(id, bucketsMember(id), Readable.from([JSON.stringify({ buckets: settings }, null, 1)]));
        record = { details: { buckets, objects, listed: config.buckets !== undefined }, fingerprint, live: ctx.mode === 'hot' };
      };
      return {
        // Cold: copied in the freeze phase (read through the server's API, so no writer has to stop for it;
        // freezing per stack copies it with every writer stopped). Hot: after every other instance's freeze,
        // so objects an application writes before the rows that name them are all there.
        ...frozenIn([{ label: `${id} buckets`, mounts: [], run: async () => {
          if (ctx.mode === 'cold') await copy();
        } }]),
        async finish() {
          try {
            if (!record) await copy();
            return record!;
          } finally {
            await close();
          }
        },
        abort: close,
      };
    },

    restore(ctx: RestoreContext): RestoreTask {
      const details = ctx.record.details as Details;
      const buckets = details.buckets ?? [];
      const scratch = join(ctx.config.backupRoot, `.restore-${id}`);
      let settings: BucketSettings[] | undefined;
      const stashed = new Map<string, string>();

      const upload = async (client: ObjectStoreClient, bucket: string, file: string, o: StoredObject) => {
        const { sidecar } = o;
        const attributes = { contentType: sidecar.contentType, metadata: sidecar.metadata, tags: sidecar.tags };
        const range = (start: number, size: number) => (size === 0 ? Readable.from([]) : createReadStream(file, { start, end: start + size - 1 }));
        if (sidecar.size <= config.multipartThreshold) {
          await client.putObject(bucket, sidecar.key, range(o.offset, sidecar.size), sidecar.size, attributes);
          return;
        }
        const uploadId = await client.createMultipart(bucket, sidecar.key, attributes);
        try {
          const parts: { partNumber: number; etag: string }[] = [];
          for (let done = 0, partNumber = 1; done < sidecar.size; partNumber++) {
            const size = Math.min(config.multipartThreshold, sidecar.size - done);
            parts.push({ partNumber, etag: await client.uploadPart(bucket, sidecar.key, uploadId, partNumber, range(o.offset + done, size), size) });
            done += size;
          }
          await client.completeMultipart(bucket, sidecar.key, uploadId, parts);
        } catch (error) {
          await client.abortMultipart(bucket, sidecar.key, uploadId).catch(() => undefined);
          throw error;
        }
      };

      const empty = async (client: ObjectStoreClient, bucket: string) => {
        const keys: string[] = [];
        for await (const o of client.listKeys(bucket)) keys.push(o.key);
        for (const key of keys) await client.deleteObject(bucket, key);
      };

      return {
        async describe() {
          const what = `${buckets.length} bucket(s) (${buckets.join(', ') || 'none'}), ${details.objects ?? 0} objects`;
          return ctx.situation === 'fresh'
            ? [`${id}: ${what} uploaded through the S3 API at ${where} once it runs`]
            : [`${id}: ${what} replaced at ${where}: each archived bucket emptied and refilled${details.listed ? '' : ', buckets the archive lacks removed'}`];
        },
        async preflight() {
          const bad = buckets.filter((b) => !validBucket(b));
          if (bad.length > 0) throw new ArchiveError(`the archive's ${id} record names buckets that are not S3 bucket names (${bad.join(', ')})`, { member: bucketsMember(id) });
          if (ctx.situation === 'in-place') {
            const client = await open(ctx);
            try {
              await client.listBuckets();
            } finally {
              await client.close();
            }
          }
        },
        async receive(member, input) {
          if (member === bucketsMember(id)) {
            try {
              settings = (JSON.parse(await readText(input)) as { buckets: BucketSettings[] }).buckets;
            } catch (error) {
              throw new ArchiveError(`${member} is not the bucket list hossadm writes`, { member, cause: error });
            }
            return;
          }
          const bucket = buckets.find((b) => member === bucketMember(id, b));
          if (!bucket) throw new ArchiveError(`archive member ${member} names no bucket of the manifest`, { member });
          await mkdir(scratch, { recursive: true, mode: 0o700 });
          const file = join(scratch, `${bucket}.tar`);
          await pipeline(input, createWriteStream(file, { mode: 0o600 }));
          stashed.set(bucket, file);
        },
        async load() {
          try {
            if (!settings) throw new ArchiveError(`the archive has no ${bucketsMember(id)}`, { member: bucketsMember(id) });
            // Every bucket file read through before the server changes: a damaged one stops the restore here.
            for (const bucket of buckets) {
              const file = stashed.get(bucket);
              if (!file) throw new ArchiveError(`the archive has no ${bucketMember(id, bucket)}`, { member: bucketMember(id, bucket) });
              for await (const o of readBucketFile(file, bucketMember(id, bucket))) void o;
            }
            const client = await ctx.reporter.step(`${id} object store answering`, () => waitFor(ctx, () => open(ctx).then(async (c) => {
              try {
                await c.listBuckets();
                return c;
              } catch (error) {
                await c.close();
                throw error;
              }
            })));
            try {
              const live = await client.listBuckets();
              if (!details.listed) {
                for (const extra of live.filter((b) => !buckets.includes(b))) {
                  await ctx.reporter.step(`${id} remove bucket ${extra}`, async () => {
                    await empty(client, extra);
                    await client.deleteBucket(extra);
                  });
                }
              }
              for (const bucket of buckets) {
                const s = settings.find((x) => x.name === bucket);
                let objects = 0;
                await ctx.reporter.step(`${id} bucket ${bucket}`, async () => {
                  if (live.includes(bucket)) await empty(client, bucket);
                  else await client.createBucket(bucket);
                  if (s?.versioning) await client.setVersioning(bucket, s.versioning);
                  if (live.includes(bucket) || s?.policy !== undefined) await client.setPolicy(bucket, s?.policy);
                  const file = stashed.get(bucket)!;
                  for await (const o of readBucketFile(file, bucketMember(id, bucket))) {
                    await upload(client, bucket, file, o);
                    objects++;
                  }
                }, () => `${objects} objects`);
              }
            } finally {
              await client.close();
            }
          } finally {
            await rm(scratch, { recursive: true, force: true });
          }
        },
        async fingerprint() {
          const client = await open(ctx);
          try {
            const fingerprint: ContentFingerprint = {};
            for (const bucket of buckets) fingerprint[bucket] = bucketFingerprint(await liveEntries(client, bucket), await settingsOf(client, bucket));
            return fingerprint;
          } finally {
            await client.close();
          }
        },
      };
    },
  };
}

/** A fresh server may need a moment after its container starts. */
async function waitFor<T>(ctx: RunContext, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline || ctx.signal.aborted) throw error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export const objectStoreKind: ComponentKind<ObjectStoreConfig> = {
  name: 'objectstore',
  summary: 'S3-compatible object storage: every bucket and object with its metadata and tags, through the S3 API (or a cold copy of the data folder with its extended attributes)',
  recognisers: [s3Recogniser],
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['mode', 'service', 'endpoint', 'port', 'region', 'accessKey', 'secretKey', 'buckets', 'multipartThreshold', 'volume', 'folder', 'image']);
    const mode = oneOf(c.mode, `${at}.mode`, ['s3', 'files'] as const, 's3');
    const otherMode = mode === 's3' ? ['volume', 'folder', 'image'] : ['endpoint', 'buckets', 'multipartThreshold'];
    for (const key of otherMode.filter((k) => c[k] !== undefined)) {
      throw new ConfigError(`stack profile: "${at}.${key}" is a setting of mode "${mode === 's3' ? 'files' : 's3'}", not of mode "${mode}"`);
    }
    const service = optionalText(c.service, `${at}.service`);
    const endpoint = optionalText(c.endpoint, `${at}.endpoint`);
    if (mode === 'files' && service === undefined) throw new ConfigError(`stack profile: "${at}" in mode "files" needs "service": the compose service of the server, stopped while its data is copied`);
    if ((service === undefined) === (endpoint === undefined)) throw new ConfigError(`stack profile: "${at}" needs exactly one of "service" (a compose service) and "endpoint" (a URL)`);
    if (endpoint !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(endpoint)) throw new ConfigError(`stack profile: "${at}.endpoint" is not an http(s)://host[:port] URL`);
    const buckets = c.buckets === undefined ? undefined : textList(c.buckets, `${at}.buckets`);
    for (const b of buckets ?? []) if (!validBucket(b)) throw new ConfigError(`stack profile: "${at}.buckets" holds "${b}", not an S3 bucket name`);
    const multipartThreshold = c.multipartThreshold === undefined ? 16 * MIB : number(c.multipartThreshold, `${at}.multipartThreshold`);
    if (!Number.isSafeInteger(multipartThreshold) || multipartThreshold < 5 * MIB) throw new ConfigError(`stack profile: "${at}.multipartThreshold" must be a whole number of bytes, at least 5 MiB (${5 * MIB})`);
    const keys = c.accessKey !== undefined || c.secretKey !== undefined || mode === 's3';
    if (keys && (c.accessKey === undefined || c.secretKey === undefined)) throw new ConfigError(`stack profile: "${at}" needs "accessKey" and "secretKey" (references to .env values, e.g. { "env": "S3_ACCESS_KEY" })`);
    const volume = optionalText(c.volume, `${at}.volume`);
    if (mode === 'files' && (volume === undefined) === (c.folder === undefined)) {
      throw new ConfigError(`stack profile: "${at}" in mode "files" needs exactly one of "volume" (a named volume of the compose project) and "folder" (a host folder, e.g. "\${STACK_DIR}/objects")`);
    }
    return {
      mode,
      ...(service !== undefined ? { service } : {}),
      ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/$/, '') } : {}),
      port: c.port === undefined ? 9000 : number(c.port, `${at}.port`),
      region: text(c.region ?? 'us-east-1', `${at}.region`),
      ...(keys ? { accessKey: parseValueRef(c.accessKey, `${at}.accessKey`), secretKey: parseValueRef(c.secretKey, `${at}.secretKey`) } : {}),
      ...(buckets ? { buckets } : {}),
      multipartThreshold,
      ...(volume !== undefined ? { volume } : {}),
      ...(c.folder !== undefined ? { folder: parseValueRef(c.folder, `${at}.folder`) } : {}),
      image: text(c.image ?? DEFAULT_FILES_IMAGE, `${at}.image`),
    };
  },
  create: createObjectStore,
};
