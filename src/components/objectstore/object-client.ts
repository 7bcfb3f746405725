// What the objectstore kind asks of an S3-compatible server, as a narrow
// interface: the real one speaks the S3 API through @aws-sdk/client-s3
// (path-style addressing, so any S3-compatible server answers: versitygw,
// MinIO, Ceph RGW, AWS); unit tests answer with an in-memory store through
// RunContext.connect.objectStore. The keys stay in memory: never on a
// command line, never in a message.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { OperationError } from '../../errors.ts';
import { s3ErrorCode } from './s3-error-code.ts';

export interface ObjectStoreSettings {
  /** http(s)://address:port */
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
}

/** What an object carries besides its bytes. */
export interface ObjectAttributes {
  contentType: string | undefined;
  /** User metadata (x-amz-meta-*), names lower-cased as S3 keeps them. */
  metadata: Record<string, string>;
  tags: Record<string, string>;
}

export type Versioning = 'Enabled' | 'Suspended' | undefined;

export interface ObjectStoreClient {
  listBuckets(): Promise<string[]>;
  createBucket(bucket: string): Promise<void>;
  deleteBucket(bucket: string): Promise<void>;
  /** undefined when versioning was never turned on, or the server has none. */
  versioning(bucket: string): Promise<Versioning>;
  setVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<void>;
  /** The bucket policy's JSON text; undefined when there is none, or the server has none. */
  policy(bucket: string): Promise<string | undefined>;
  setPolicy(bucket: string, policy: string | undefined): Promise<void>;
  /** Every key of a bucket (current versions), page by page. */
  listKeys(bucket: string): AsyncIterable<{ key: string; size: number }>;
  tags(bucket: string, key: string): Promise<Record<string, string>>;
  /** Bytes and attributes (tags excepted) from one GET; undefined when the key is gone. */
  getObject(bucket: string, key: string): Promise<{ size: number; contentType: string | undefined; metadata: Record<string, string>; body: Readable } | undefined>;
  putObject(bucket: string, key: string, body: Readable, size: number, attributes: ObjectAttributes): Promise<void>;
  createMultipart(bucket: string, key: string, attributes: ObjectAttributes): Promise<string>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, size: number): Promise<string>;
  completeMultipart(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

const tagging = (tags: Record<string, string>) => (Object.keys(tags).length > 0 ? new URLSearchParams(tags).toString() : undefined);


const ABSENT = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucketPolicy', 'NoSuchTagSet', 'NoSuchTagSetError']);
const UNSUPPORTED = new Set(['NotImplemented', 'MethodNotAllowed', 'VersioningNotConfigured']);

export function openS3(settings: ObjectStoreSettings): ObjectStoreClient {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKey, secretAccessKey: settings.secretKey },
    // Plain payloads: not every S3-compatible server takes the flexible checksums' chunked bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const call = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new OperationError(`the object store at ${settings.endpoint} refused ${what}: ${s3ErrorCode(error)}${(error as Error).message && (error as Error).message !== s3ErrorCode(error) ? ` (${(error as Error).message.split('\n')[0]})` : ''}`, {
        hint: 'check that the object store runs and the access key in the stack\'s .env', cause: error,
      });
    }
  };
  /** Absent or unsupported answers as undefined; anything else is an error. */
  const optional = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      const code = s3ErrorCode(error);
      if (ABSENT.has(code) || UNSUPPORTED.has(code)) return undefined;
      return call(what, () => Promise.reject(error));
    }
  };
  return {
    async listBuckets() {
      const out = await call('ListBuckets', () => client.send(new ListBucketsCommand({})));
      return (out.Buckets ?? []).map((b) => b.Name!).filter(Boolean).sort();
    },
    async createBucket(bucket) {
      await call(`CreateBucket ${bucket}`, () => client.send(new CreateBucketCommand({ Bucket: bucket })));
    },
    async deleteBucket(bucket) {
      await call(`DeleteBucket ${bucket}`, () => client.send(new DeleteBucketCommand({ Bucket: bucket })));
    },
    async versioning(bucket) {
      const out = await optional(`GetBucketVersioning ${bucket}`, () => client.send(new GetBucketVersioningCommand({ Bucket: bucket })));
      const status = out?.Status;
      return status === 'Enabled' || status === 'Suspended' ? status : undefined;
    },
    async setVersioning(bucket, status) {
      await call(`PutBucketVersioning ${bucket}`, () => client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } })));
    },
    async policy(bucket) {
      return (await optional(`GetBucketPolicy ${bucket}`, () => client.send(new GetBucketPolicyCommand({ Bucket: bucket }))))?.Policy || undefined;
    },
    async setPolicy(bucket, policy) {
      if (policy === undefined) await optional(`DeleteBucketPolicy ${bucket}`, () => client.send(new DeleteBucketPolicyCommand({ Bucket: bucket })));
      else await call(`PutBucketPolicy ${bucket}`, () => client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })));
    },
    async *listKeys(bucket) {
      let token: string | undefined;
      do {
        const page = await call(`ListObjectsV2 ${bucket}`, () => client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) })));
        for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0 };
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async tags(bucket, key) {
      const out = await optional(`GetObjectTagging ${bucket}`, () => client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })));
      return Object.fromEntries((out?.TagSet ?? []).map((t) => [t.Key!, t.Value ?? '']));
    },
    async getObject(bucket, key) {
      const out = await optional(`GetObject in ${bucket}`, () => client.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
      if (!out) return undefined;
      return { size: out.ContentLength ?? 0, contentType: out.ContentType, metadata: out.Metadata ?? {}, body: out.Body as Readable };
    },
    async putObject(bucket, key, body, size, a) {
      const tags = tagging(a.tags);
      await call(`PutObject in ${bucket}`, () => client.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentLength: size, Metadata: a.metadata,
        ...(a.contentType ? { ContentType: a.contentType } : {}), ...(tags ? { Tagging: tags } : {}),
      })));
    },
    async createMultipart(bucket, key, a) {
      const tags = tagging(a.tags);
      const out = await call(`CreateMultipartUpload in ${bucket}`, () => client.send(new CreateMultipartUploadCommand({
        Bucket: bucket, Key: key, Metadata: a.metadata, ...(a.contentType ? { ContentType: a.contentType } : {}), ...(tags ? { Tagging: tags } : {}),
      })));
      return out.UploadId!;
    },
    async uploadPart(bucket, key, uploadId, partNumber, body, size) {
      const out = await call(`UploadPart in ${bucket}`, () => client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: size })));
      return out.ETag!;
    },
    async completeMultipart(bucket, key, uploadId, parts) {
      await call(`CompleteMultipartUpload in ${bucket}`, () => client.send(new CompleteMultipartUploadCommand({
        Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      })));
    },
    async abortMultipart(bucket, key, uploadId) {
      await optional(`AbortMultipartUpload in ${bucket}`, () => client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })));
    },
    async deleteObject(bucket, key) {
      await call(`DeleteObject in ${bucket}`, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },
    async close() {
      client.destroy();
    },
  };
}
