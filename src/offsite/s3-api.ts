// The S3 calls an S3 target makes, behind a narrow interface: the real one
// over @aws-sdk/client-s3, a fake in unit tests. Each call is one request;
// the target decides about retries (the SDK's own are off).
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command,
  S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Settings } from './s3-settings.ts';

export interface UploadedPart {
  partNumber: number;
  etag: string;
  /** base64 sha256 of the part, as the server checked it. */
  checksum: string;
  bytes: number;
}

export interface S3Api {
  createMultipart(bucket: string, key: string, lock: { until: Date } | undefined): Promise<string>;
  /** The server refuses the part unless its bytes hash to `checksum` (x-amz-checksum-sha256). */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer, checksum: string, signal?: AbortSignal): Promise<string>;
  /** The whole object's checksum as the server computed it (sha256 of the parts' digests, "-N"), when it says. */
  completeMultipart(bucket: string, key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<string | undefined>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
  /** Keys and sizes under `prefix`, one page; `token` continues. */
  listPage(bucket: string, prefix: string, token: string | undefined): Promise<{ objects: Array<{ key: string; bytes: number }>; next: string | undefined }>;
  getObject(bucket: string, key: string, signal?: AbortSignal): Promise<Readable>;
  deleteObject(bucket: string, key: string): Promise<void>;
  close(): void;
}

export function openS3Api(settings: S3Settings): S3Api {
  const client = new S3Client({
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // The target sends its own sha256 per part; no SDK checksum trailers (not every server takes chunked bodies).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true }),
      httpsAgent: new HttpsAgent({ keepAlive: true, ...(settings.ca ? { ca: settings.ca } : {}) }),
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
    }),
  });
  return {
    async createMultipart(bucket, key, lock) {
      const out = await client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket, Key: key, ChecksumAlgorithm: 'SHA256', ContentType: 'application/octet-stream',
          ...(lock ? { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: lock.until } : {}),
        }),
      );
      if (!out.UploadId) throw new Error('the server started a multipart upload without an upload id');
      return out.UploadId;
    },
    async uploadPart(bucket, key, uploadId, partNumber, body, checksum, signal) {
      const command = new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length, ChecksumSHA256: checksum });
      // The signature covers x-amz-checksum-sha256, which the server checks against the bytes:
      // hashing the part a second time for the signature would only cost time.
      command.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
          return next(args);
        },
        { step: 'build', name: 'hossadmUnsignedPartPayload' },
      );
      const out = await client.send(command, signal ? { abortSignal: signal } : {});
      if (!out.ETag) throw new Error(`the server took part ${partNumber} without an ETag`);
      return out.ETag;
    },
    async completeMultipart(bucket, key, uploadId, parts) {
      const out = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket, Key: key, UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumSHA256: p.checksum })) },
        }),
      );
      return out.ChecksumSHA256;
    },
    async abortMultipart(bucket, key, uploadId) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    },
    async listPage(bucket, prefix, token) {
      const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      return {
        objects: (out.Contents ?? []).filter((o) => o.Key).map((o) => ({ key: o.Key!, bytes: o.Size ?? 0 })),
        next: out.IsTruncated ? out.NextContinuationToken : undefined,
      };
    },
    async getObject(bucket, key, signal) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
      return out.Body as Readable;
    },
    async deleteObject(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    close: () => client.destroy(),
  };
}
