// An in-memory S3 behind the S3 target's narrow interface (src/offsite/s3-api.ts):
// multipart uploads that check each part's sha256 as a server does, objects
// that appear only on completion, and faults to inject per call.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Api, UploadedPart } from '../../src/offsite/s3-api.ts';

type Call = 'createMultipart' | 'uploadPart' | 'completeMultipart' | 'abortMultipart' | 'listPage' | 'getObject' | 'deleteObject';

/** An error shaped as the SDK throws them: a name and the HTTP status. */
export function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

export class FakeS3Api implements S3Api {
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  readonly calls: string[] = [];
  readonly aborted: string[] = [];
  /** Errors thrown by the next calls of a kind, in order. */
  readonly faults = new Map<Call, Error[]>();
  private next = 0;

  fail(call: Call, ...errors: Error[]): void {
    this.faults.set(call, [...(this.faults.get(call) ?? []), ...errors]);
  }

  private enter(call: Call, detail = ''): void {
    this.calls.push(detail ? `${call} ${detail}` : call);
    const error = this.faults.get(call)?.shift();
    if (error) throw error;
  }

  async createMultipart(bucket: string, key: string): Promise<string> {
    this.enter('createMultipart');
    const id = `upload-${++this.next}`;
    this.uploads.set(id, { key: `${bucket}/${key}`, parts: new Map() });
    return id;
  }

  /** Parts being received right now, and the most there ever were. */
  receiving = 0;
  mostReceiving = 0;

  async uploadPart(_bucket: string, _key: string, uploadId: string, partNumber: number, body: Buffer, checksum: string): Promise<string> {
    this.enter('uploadPart', String(partNumber));
    this.mostReceiving = Math.max(this.mostReceiving, ++this.receiving);
    // A network round trip: other parts may be sent meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    this.receiving--;
    const upload = this.uploads.get(uploadId);
    if (!upload) throw s3Error('NoSuchUpload', 404);
    if (createHash('sha256').update(body).digest('base64') !== checksum) throw s3Error('BadDigest', 400);
    upload.parts.set(partNumber, Buffer.from(body));
    return `"etag-${partNumber}"`;
  }

  async completeMultipart(_bucket: string, _key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<string | undefined> {
    this.enter('completeMultipart');
    const upload = this.uploads.get(uploadId);
    if (!upload) throw s3Error('NoSuchUpload', 404);
    this.objects.set(upload.key, Buffer.concat(parts.map((p) => upload.parts.get(p.partNumber)!)));
    this.uploads.delete(uploadId);
    const hash = createHash('sha256');
    for (const p of parts) hash.update(Buffer.from(p.checksum, 'base64'));
    return `${hash.digest('base64')}-${parts.length}`;
  }

  async abortMultipart(_bucket: string, _key: string, uploadId: string): Promise<void> {
    this.enter('abortMultipart');
    this.uploads.delete(uploadId);
    this.aborted.push(uploadId);
  }

  async listPage(bucket: string, prefix: string): Promise<{ objects: Array<{ key: string; bytes: number }>; next: string | undefined }> {
    this.enter('listPage');
    const lead = `${bucket}/`;
    const objects = [...this.objects]
      .filter(([k]) => k.startsWith(lead + prefix))
      .map(([k, data]) => ({ key: k.slice(lead.length), bytes: data.length }));
    return { objects, next: undefined };
  }

  async getObject(bucket: string, key: string): Promise<Readable> {
    this.enter('getObject');
    const data = this.objects.get(`${bucket}/${key}`);
    if (!data) throw s3Error('NoSuchKey', 404);
    return Readable.from([data]);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    this.enter('deleteObject');
    this.objects.delete(`${bucket}/${key}`);
  }

  close(): void {}
}
