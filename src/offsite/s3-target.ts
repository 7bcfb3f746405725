// An S3 bucket (and prefix) as a target: s3://bucket/prefix. An archive is
// sent as a multipart upload in parts of at least 8 MiB, four on their way
// at a time (so memory is bounded by five parts), each with its sha256 in
// x-amz-checksum-sha256 so the server refuses a part that arrived damaged. The object appears under its name
// only when the upload is completed, after every part was taken and the
// whole stream hashed to the sha256 the caller gave; any failure aborts the
// upload. Transient failures are retried with backoff (retry.ts).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { s3ErrorCode } from '../components/objectstore/s3-error-code.ts';
import { ConfigError, HossError, OperationError, UsageError } from '../errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.ts';
import type { S3Api, UploadedPart } from './s3-api.ts';
import type { PutOptions, RemoteArchive, Target } from './target.ts';

const MiB = 1024 * 1024;
/** S3 allows at most 10,000 parts; parts grow past 8 MiB only for archives over 80 GB. */
const MIN_PART = 8 * MiB;
const MAX_PARTS = 10_000;
/** Parts sent at once: the round trips overlap; memory stays at this many parts plus the one being read. */
const PARTS_IN_FLIGHT = 4;

export function partSizeFor(bytes: number): number {
  return Math.max(MIN_PART, Math.ceil(bytes / MAX_PARTS / MiB) * MiB);
}

export interface S3Location {
  bucket: string;
  /** Without leading or trailing "/"; empty for the bucket's top. */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** s3://bucket[/prefix]; a UsageError naming what is wrong otherwise. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new UsageError(`"${url}" is not an S3 target`, { hint: 'write it as s3://bucket or s3://bucket/prefix' });
  const bucket = m[1]!;
  if (!BUCKET.test(bucket)) throw new UsageError(`"${bucket}" in ${url} is not an S3 bucket name`, { hint: 'lowercase letters, digits, dots and hyphens, 3 to 63 characters' });
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..') || /\/\//.test(prefix)) {
    throw new UsageError(`the prefix "${prefix}" in ${url} has an empty, "." or ".." segment`);
  }
  return { bucket, prefix };
}

/** Answers that mean the keys, the bucket or the certificate are wrong: configuration, not a passing fault. */
const REFUSALS: Record<string, string> = {
  AccessDenied: 'access denied',
  InvalidAccessKeyId: 'the access key is unknown to the server',
  SignatureDoesNotMatch: 'the secret key does not match the access key',
  NoSuchBucket: 'the bucket does not exist',
  AllAccessDisabled: 'access to the bucket is disabled',
  InvalidBucketName: 'the bucket name is refused',
  AuthorizationHeaderMalformed: 'the region or keys are refused',
  // Object lock asked of a bucket without it, among others.
  InvalidRequest: 'the server refused the request',
};
const TLS = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 200);
}

export interface S3TargetOptions {
  retry?: RetryPolicy;
  /** Says a retry is coming (progress). */
  warn?: (message: string) => void;
}

export class S3Target implements Target {
  readonly url: string;
  private readonly location: S3Location;
  private readonly retry: RetryPolicy;
  private readonly api: S3Api;

  constructor(url: string, api: S3Api, options: S3TargetOptions = {}) {
    this.api = api;
    this.location = parseS3Url(url);
    this.url = `s3://${this.location.bucket}${this.location.prefix ? `/${this.location.prefix}` : ''}`;
    const warn = options.warn;
    this.retry = {
      ...(options.retry ?? DEFAULT_RETRY),
      ...(warn ? { onRetry: (attempt: number, delay: number, error: unknown) => warn(`${this.url}: ${s3ErrorCode(error)}; trying again in ${delay / 1000} s (try ${attempt + 1})`) } : {}),
    };
  }

  private key(name: string): string {
    if (!name || name.includes('/')) throw new UsageError(`"${name}" is not an archive name`);
    return this.location.prefix ? `${this.location.prefix}/${name}` : name;
  }

  /** One request with retries; its failure as a typed error saying what was being done. */
  private async call<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await withRetry(work, this.retry, signal);
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  private failure(what: string, error: unknown): HossError {
    if (error instanceof HossError) return error;
    const code = s3ErrorCode(error);
    const refusal = REFUSALS[code];
    const tlsCode = (error as { code?: string }).code;
    if (refusal) {
      const keys = 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or HOSSADM_S3_CREDENTIALS_FILE)';
      const hint =
        code === 'NoSuchBucket'
          ? 'create the bucket, or correct the target'
          : code === 'AccessDenied' && /^(list|read|delete) /.test(what)
            ? `list, read and delete need other keys than write-only backup keys: set ${keys} to keys the bucket policy lets list, get and delete`
            : `check ${keys}, HOSSADM_S3_ENDPOINT and the bucket policy`;
      const said = firstLine(error);
      return new ConfigError(`${this.url}: cannot ${what}: ${refusal} (${said && said !== code ? `${code}: ${said}` : code})`, { hint, cause: error });
    }
    if (tlsCode && TLS.has(tlsCode)) {
      return new ConfigError(`${this.url}: cannot ${what}: the server's certificate is not trusted (${tlsCode})`, {
        hint: 'set HOSSADM_S3_CA_FILE to the CA that signed it',
        cause: error,
      });
    }
    const detail = code === firstLine(error) || firstLine(error) === '' ? code : `${code}: ${firstLine(error)}`;
    return new OperationError(`${this.url}: cannot ${what}: ${detail}`, { hint: 'check that the S3 server answers at HOSSADM_S3_ENDPOINT', cause: error });
  }

  async list(signal?: AbortSignal): Promise<RemoteArchive[]> {
    const { bucket, prefix } = this.location;
    const lead = prefix ? `${prefix}/` : '';
    const found: RemoteArchive[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('list the archives', () => this.api.listPage(bucket, lead, token), signal);
      for (const object of page.objects) {
        const name = object.key.slice(lead.length);
        if (name && !name.includes('/')) found.push({ name, bytes: object.bytes });
      }
      token = page.next;
    } while (token);
    return found;
  }

  async put(name: string, source: Readable, options: PutOptions): Promise<void> {
    const { bucket } = this.location;
    const key = this.key(name);
    const lock = options.lockDays ? { until: new Date(Date.now() + options.lockDays * 86_400_000) } : undefined;
    const uploadId = await this.call(`start the upload of ${name}`, () => this.api.createMultipart(bucket, key, lock), options.signal);
    // Parts sent but not yet answered; each has a handler at once, so one failing while another is awaited is not unhandled.
    const inFlight: Array<Promise<UploadedPart>> = [];
    try {
      const whole = createHash('sha256');
      const parts: UploadedPart[] = [];
      let read = 0;
      let sent = 0;
      const settle = async () => {
        const part = await inFlight.shift()!;
        parts.push(part);
        sent += part.bytes;
        options.onProgress?.(sent);
      };
      for await (const body of inParts(source, partSizeFor(options.bytes))) {
        whole.update(body);
        read += body.length;
        const partNumber = parts.length + inFlight.length + 1;
        const checksum = createHash('sha256').update(body).digest('base64');
        const sending = this.call(`send part ${partNumber} of ${name}`, () => this.api.uploadPart(bucket, key, uploadId, partNumber, body, checksum, options.signal), options.signal).then(
          (etag) => ({ partNumber, etag, checksum, bytes: body.length }),
        );
        sending.catch(() => undefined);
        inFlight.push(sending);
        if (inFlight.length >= PARTS_IN_FLIGHT) await settle();
      }
      while (inFlight.length > 0) await settle();
      if (read !== options.bytes) throw new OperationError(`${name} gave ${read} bytes, ${options.bytes} were expected; nothing was stored`);
      if (whole.digest('hex') !== options.sha256) throw new OperationError(`${name} changed while it was sent (sha256 differs); nothing was stored`);
      const composite = await this.call(`complete the upload of ${name}`, () => this.api.completeMultipart(bucket, key, uploadId, parts), options.signal);
      const expected = compositeChecksum(parts);
      if (composite?.includes('-') && composite !== expected) {
        await this.api.deleteObject(bucket, key).catch(() => undefined);
        throw new OperationError(`${this.url}: the server's checksum of ${name} (${composite}) is not that of the parts sent (${expected})`);
      }
    } catch (error) {
      // No part may land after the abort: wait for those still on their way.
      await Promise.allSettled(inFlight);
      // Best effort: a server that is gone cannot abort, and its upload never became an object.
      await withRetry(() => this.api.abortMultipart(bucket, key, uploadId), { ...this.retry, attempts: 2 }).catch(() => undefined);
      throw this.failure(`send ${name}`, error);
    }
  }

  async get(name: string, signal?: AbortSignal): Promise<Readable> {
    const { bucket } = this.location;
    try {
      return await withRetry(() => this.api.getObject(bucket, this.key(name), signal), this.retry, signal);
    } catch (error) {
      if (s3ErrorCode(error) === 'NoSuchKey') throw new UsageError(`no archive ${name} in ${this.url}`, { hint: `hossadm list --from ${this.url} shows what is there` });
      throw this.failure(`read ${name}`, error);
    }
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    const { bucket } = this.location;
    await this.call(`delete ${name}`, () => this.api.deleteObject(bucket, this.key(name)), signal);
  }

  async close(): Promise<void> {
    this.api.close();
  }
}

/** The multipart checksum S3 reports: sha256 over the parts' raw sha256 digests, then "-" and the part count. */
export function compositeChecksum(parts: readonly UploadedPart[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(Buffer.from(part.checksum, 'base64'));
  return `${hash.digest('base64')}-${parts.length}`;
}

/** The stream cut into buffers of exactly `size` bytes (the last one shorter); one buffer held at a time. */
export async function* inParts(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    let data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    while (held + data.length >= size) {
      const take = size - held;
      pending.push(data.subarray(0, take));
      yield Buffer.concat(pending, size);
      data = data.subarray(take);
      pending = [];
      held = 0;
    }
    if (data.length > 0) {
      pending.push(data);
      held += data.length;
    }
  }
  if (held > 0) yield Buffer.concat(pending, held);
}
