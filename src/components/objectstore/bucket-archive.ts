// One archive member per bucket: a tar hossadm writes itself, holding for
// each object a JSON sidecar (key, size, content type, user metadata, tags)
// followed by the object's bytes, under sequence names (00000001.json,
// 00000001.data) so that no key, however awkward (`../`, unicode, 1 KiB
// long), ever becomes a path. Written while the bytes stream from the
// server; read back from a file with random access, so each object streams
// to the server from its own byte range.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { BLOCK_SIZE, buildMemberHeader, END_OF_ARCHIVE, type HeaderError, isZeroBlock, paddedSize, paddingFor, parseHeader } from '../../archive/tar-header.ts';
import { ArchiveError, OperationError } from '../../errors.ts';
import type { ObjectAttributes, ObjectStoreClient } from './object-client.ts';

export interface Sidecar extends ObjectAttributes {
  key: string;
  size: number;
}

/** An object as the fingerprint sees it. */
export interface ObjectEntry extends Sidecar {
  sha256: string;
}

const SEQUENCE = (n: number) => String(n).padStart(8, '0');

/**
 * The bucket's tar, object by object: tags, then one GET for bytes and
 * attributes (so they belong together), streamed through as read. An object
 * deleted between the listing and its GET (a hot backup) is left out.
 */
export async function* bucketTar(client: ObjectStoreClient, bucket: string, mtime: Date, saw: (entry: ObjectEntry) => void): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const { key } of client.listKeys(bucket)) {
    const tags = await client.tags(bucket, key);
    const object = await client.getObject(bucket, key);
    if (!object) continue;
    n++;
    const sidecar: Sidecar = { key, size: object.size, contentType: object.contentType, metadata: object.metadata, tags };
    const json = Buffer.from(JSON.stringify(sidecar));
    yield buildMemberHeader({ name: `${SEQUENCE(n)}.json`, size: json.length, mtime });
    yield json;
    yield paddingFor(json.length);
    yield buildMemberHeader({ name: `${SEQUENCE(n)}.data`, size: object.size, mtime });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of object.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes > object.size) break;
      yield chunk;
    }
    if (bytes !== object.size) {
      throw new OperationError(`the object store sent ${bytes} bytes for an object of ${object.size} in bucket ${bucket} (key ${JSON.stringify(key.slice(0, 80))})`, { hint: 'run the backup again' });
    }
    yield paddingFor(object.size);
    saw({ ...sidecar, sha256: hash.digest('hex') });
  }
  yield END_OF_ARCHIVE;
}

export interface StoredObject {
  sidecar: Sidecar;
  /** Where the object's bytes start in the file. */
  offset: number;
}

/**
 * Every object of a bucket file, checked as it is read: headers, names in
 * sequence, sidecars that parse, data sizes that match them, the end
 * blocks. Anything else is an ArchiveError naming the member.
 */
export async function* readBucketFile(path: string, member: string): AsyncGenerator<StoredObject> {
  const file = await open(path, 'r');
  const bad = (what: string) => new ArchiveError(`${member} is damaged: ${what}`, { member });
  try {
    const { size: fileSize } = await file.stat();
    let at = 0;
    let n = 0;
    const block = Buffer.alloc(BLOCK_SIZE);
    const header = async () => {
      if (at + BLOCK_SIZE > fileSize) throw bad(`it ends inside object ${n + 1}`);
      await file.read(block, 0, BLOCK_SIZE, at);
      at += BLOCK_SIZE;
      if (isZeroBlock(block)) return undefined;
      try {
        return parseHeader(block);
      } catch (error) {
        throw bad((error as HeaderError).message);
      }
    };
    for (;;) {
      const first = await header();
      if (!first) return;
      n++;
      if (first.name !== `${SEQUENCE(n)}.json` || first.type !== '0' || first.size > 1024 * 1024) throw bad(`entry ${JSON.stringify(first.name)} where ${SEQUENCE(n)}.json belongs`);
      const json = Buffer.alloc(first.size);
      await file.read(json, 0, first.size, at);
      at += paddedSize(first.size);
      let sidecar: Sidecar;
      try {
        sidecar = JSON.parse(json.toString('utf8')) as Sidecar;
      } catch {
        throw bad(`the sidecar of object ${n} is not JSON`);
      }
      if (typeof sidecar.key !== 'string' || !Number.isSafeInteger(sidecar.size) || typeof sidecar.metadata !== 'object' || typeof sidecar.tags !== 'object') throw bad(`the sidecar of object ${n} lacks its key, size, metadata or tags`);
      const data = await header();
      if (!data || data.name !== `${SEQUENCE(n)}.data` || data.size !== sidecar.size) throw bad(`object ${n}'s bytes do not follow its sidecar`);
      if (at + data.size > fileSize) throw bad(`it ends inside object ${n}`);
      yield { sidecar, offset: at };
      at += paddedSize(data.size);
    }
  } finally {
    await file.close();
  }
}

/** JSON with object keys sorted, so equal settings hash equally whatever order a server returns them in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const hash48 = (text: string) => createHash('sha256').update(text).digest().readUIntBE(0, 6);

export interface BucketSettings {
  name: string;
  versioning: 'Enabled' | 'Suspended' | undefined;
  policy: string | undefined;
}

/**
 * A bucket's fingerprint: object count, bytes, and a hash over every
 * object's key, size, sha256 of its bytes, content type, metadata and tags
 * in key order; its versioning state and a hash of its policy.
 */
export function bucketFingerprint(entries: readonly ObjectEntry[], settings: BucketSettings): Record<string, number> {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    hash.update(canonicalJson([e.key, e.size, e.sha256, e.contentType ?? '', e.metadata, e.tags]));
    hash.update('\n');
    bytes += e.size;
  }
  let policy = 0;
  if (settings.policy !== undefined) {
    try {
      policy = hash48(canonicalJson(JSON.parse(settings.policy)));
    } catch {
      policy = hash48(settings.policy);
    }
  }
  return {
    objects: entries.length,
    bytes,
    hash: hash.digest().readUIntBE(0, 6),
    versioning: settings.versioning === 'Enabled' ? 1 : settings.versioning === 'Suspended' ? 2 : 0,
    policy,
  };
}

/** Reads a whole bucket back for the proof: every object's bytes hashed, with its attributes. */
export async function liveEntries(client: ObjectStoreClient, bucket: string): Promise<ObjectEntry[]> {
  const entries: ObjectEntry[] = [];
  for await (const { key } of client.listKeys(bucket)) {
    const tags = await client.tags(bucket, key);
    const object = await client.getObject(bucket, key);
    if (!object) continue;
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of object.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    entries.push({ key, size, contentType: object.contentType, metadata: object.metadata, tags, sha256: hash.digest('hex') });
  }
  return entries;
}
