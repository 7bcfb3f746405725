// An in-memory S3-compatible server behind the objectstore kind's narrow
// client interface: buckets with versioning and policy, objects with bytes,
// content type, metadata and tags, multipart uploads. It refuses wrong keys,
// counts open clients and multipart uploads, and can drop an object between
// a listing and its GET (as a hot backup may see).
import { Readable } from 'node:stream';
import type { ObjectAttributes, ObjectStoreClient, ObjectStoreSettings } from '../../src/components/objectstore/object-client.ts';
import type { FakeStack } from './fake-stack.ts';

export interface FakeObject extends ObjectAttributes {
  data: Buffer;
}

export interface FakeBucket {
  objects: Map<string, FakeObject>;
  versioning: 'Enabled' | 'Suspended' | undefined;
  policy: string | undefined;
}

async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export class FakeObjectStore {
  readonly buckets = new Map<string, FakeBucket>();
  readonly accessKey: string;
  readonly secretKey: string;
  openClients = 0;
  completedMultipart = 0;
  readonly pendingUploads = new Map<string, { bucket: string; key: string; attributes: ObjectAttributes; parts: Map<number, Buffer> }>();
  /** Keys that vanish right after the next listing names them. */
  readonly vanishAfterListing = new Set<string>();
  /** Every settings object clients were opened with (to check the keys travel only here). */
  readonly opened: ObjectStoreSettings[] = [];
  private uploads = 0;

  constructor(accessKey: string, secretKey: string) {
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  bucket(name: string): FakeBucket {
    const b = this.buckets.get(name);
    if (!b) throw Object.assign(new Error('NoSuchBucket'), { name: 'NoSuchBucket' });
    return b;
  }

  addBucket(name: string, settings: Partial<Omit<FakeBucket, 'objects'>> = {}): void {
    this.buckets.set(name, { objects: new Map(), versioning: settings.versioning, policy: settings.policy });
  }

  put(bucket: string, key: string, data: Buffer | string, attributes: Partial<ObjectAttributes> = {}): void {
    this.bucket(bucket).objects.set(key, { data: Buffer.from(data), contentType: attributes.contentType ?? 'binary/octet-stream', metadata: attributes.metadata ?? {}, tags: attributes.tags ?? {} });
  }

  client(settings: ObjectStoreSettings): ObjectStoreClient {
    this.opened.push(settings);
    if (settings.accessKey !== this.accessKey || settings.secretKey !== this.secretKey) {
      const refuse = async () => { throw Object.assign(new Error('InvalidAccessKeyId'), { name: 'InvalidAccessKeyId' }); };
      return new Proxy({} as ObjectStoreClient, { get: (_t, p) => (p === 'close' ? async () => undefined : refuse) });
    }
    this.openClients++;
    const store = this;
    let open = true;
    const live = () => {
      if (!open) throw new Error('fake object store: client used after close');
    };
    return {
      async listBuckets() { live(); return [...store.buckets.keys()].sort(); },
      async createBucket(name) { live(); if (store.buckets.has(name)) throw new Error('BucketAlreadyOwnedByYou'); store.addBucket(name); },
      async deleteBucket(name) { live(); if (store.bucket(name).objects.size > 0) throw new Error('BucketNotEmpty'); store.buckets.delete(name); },
      async versioning(name) { live(); return store.bucket(name).versioning; },
      async setVersioning(name, status) { live(); store.bucket(name).versioning = status; },
      async policy(name) { live(); return store.bucket(name).policy; },
      async setPolicy(name, policy) { live(); store.bucket(name).policy = policy; },
      async *listKeys(name) {
        live();
        const keys = [...store.bucket(name).objects.keys()].sort();
        for (const key of keys) {
          const o = store.bucket(name).objects.get(key);
          if (!o) continue;
          yield { key, size: o.data.length };
          if (store.vanishAfterListing.delete(key)) store.bucket(name).objects.delete(key);
        }
      },
      async tags(name, key) { live(); return { ...(store.bucket(name).objects.get(key)?.tags ?? {}) }; },
      async getObject(name, key) {
        live();
        const o = store.bucket(name).objects.get(key);
        if (!o) return undefined;
        // Small chunks, so streaming is exercised.
        const chunks: Buffer[] = [];
        for (let i = 0; i < o.data.length; i += 64 * 1024) chunks.push(o.data.subarray(i, i + 64 * 1024));
        return { size: o.data.length, contentType: o.contentType, metadata: { ...o.metadata }, body: Readable.from(chunks) };
      },
      async putObject(name, key, body, size, attributes) {
        live();
        const data = await drain(body);
        if (data.length !== size) throw new Error(`fake object store: ${data.length} bytes sent, ${size} declared`);
        store.bucket(name).objects.set(key, { data, contentType: attributes.contentType, metadata: { ...attributes.metadata }, tags: { ...attributes.tags } });
      },
      async createMultipart(name, key, attributes) {
        live();
        store.bucket(name);
        const id = `upload-${++store.uploads}`;
        store.pendingUploads.set(id, { bucket: name, key, attributes, parts: new Map() });
        return id;
      },
      async uploadPart(_name, _key, uploadId, partNumber, body, size) {
        live();
        const data = await drain(body);
        if (data.length !== size) throw new Error('fake object store: part size mismatch');
        store.pendingUploads.get(uploadId)!.parts.set(partNumber, data);
        return `"etag-${partNumber}"`;
      },
      async completeMultipart(name, key, uploadId, parts) {
        live();
        const upload = store.pendingUploads.get(uploadId)!;
        const all = parts.map((p) => upload.parts.get(p.partNumber)!);
        if (all.slice(0, -1).some((p) => p.length < 5 * 1024 * 1024)) throw new Error('EntityTooSmall');
        store.pendingUploads.delete(uploadId);
        store.completedMultipart++;
        store.bucket(name).objects.set(key, { data: Buffer.concat(all), contentType: upload.attributes.contentType, metadata: { ...upload.attributes.metadata }, tags: { ...upload.attributes.tags } });
      },
      async abortMultipart(_name, _key, uploadId) { store.pendingUploads.delete(uploadId); },
      async deleteObject(name, key) { live(); store.bucket(name).objects.delete(key); },
      async close() {
        if (open) store.openClients--;
        open = false;
      },
    };
  }
}

/** Answers the objectstore kind's clients on the fake stack from `store`, for the containers of `service`. */
export function serveObjectStore(stack: FakeStack, service: string, store: FakeObjectStore): void {
  stack.connect.objectStore = (settings) => {
    const c = stack.docker.byAddress(new URL(settings.endpoint).hostname);
    if (!c || c.info.service !== service || c.info.state !== 'running') throw new Error(`fake object store: nothing listens at ${settings.endpoint}`);
    return store.client(settings);
  };
}
