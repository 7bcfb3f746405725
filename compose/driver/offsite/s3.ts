// The offsite stack's S3 servers: versitygw over HTTP and over HTTPS (one
// posix root), a CA and server certificate made with the host's openssl,
// two buckets (one with object lock) and a write-only user whose bucket
// policy lets it put objects but not list, read or delete them.
import { CreateBucketCommand, HeadBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import { join } from 'node:path';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { OperationError, StackError } from '../../../src/errors.ts';
import { randomSecret } from '../env-template.ts';
import { say } from '../runtime.ts';
import { freePort, type OffsiteContext, offsiteComposeProject } from './context.ts';
import type { OffsitePart } from './part.ts';

const tlsDir = (ctx: OffsiteContext) => join(ctx.dir, 'tls');
const httpEndpoint = (ctx: OffsiteContext) => `http://127.0.0.1:${ctx.env.S3_HTTP_PORT}`;
const httpsEndpoint = (ctx: OffsiteContext) => `https://127.0.0.1:${ctx.env.S3_HTTPS_PORT}`;

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    child.on('error', (error) => reject(new OperationError(`openssl could not run: ${error.message}`, { hint: 'install openssl on the host' })));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new OperationError(`openssl ${args[0]} failed: ${err.trim().split('\n').pop() ?? ''}`))));
  });
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made once. */
async function makeTls(dir: string): Promise<void> {
  if (existsSync(join(dir, 'server.pem'))) return;
  await mkdir(dir, { recursive: true });
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=hossadm offsite test CA', '-keyout', 'ca.key', '-out', 'ca.pem'], dir);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', 'server.ext', '-out', 'server.pem'], dir);
  say(`made a CA and a server certificate in ${dir}`);
}

function rootClient(ctx: OffsiteContext, ca: Buffer): S3Client {
  return new S3Client({
    endpoint: httpsEndpoint(ctx),
    region: ctx.env.S3_REGION!,
    forcePathStyle: true,
    credentials: { accessKeyId: ctx.env.S3_ROOT_ACCESS_KEY!, secretAccessKey: ctx.env.S3_ROOT_SECRET_KEY! },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
  });
}

function httpsHealth(ctx: OffsiteContext, ca: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = get(`${httpsEndpoint(ctx)}/health`, { ca, timeout: 3000 }, (response) => {
      response.resume();
      response.statusCode === 200 ? resolve() : reject(new Error(`HTTPS /health answered ${response.statusCode}`));
    });
    request.on('timeout', () => request.destroy(new Error('HTTPS /health timed out')));
    request.on('error', reject);
  });
}

async function httpHealth(ctx: OffsiteContext): Promise<void> {
  const response = await fetch(`${httpEndpoint(ctx)}/health`, { signal: AbortSignal.timeout(3000) });
  if (response.status !== 200) throw new Error(`HTTP /health answered ${response.status}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForHealth(ctx: OffsiteContext, ca: Buffer, timeoutSeconds: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      await httpHealth(ctx);
      await httpsHealth(ctx, ca);
      return;
    } catch (error) {
      if ((Date.now() - started) / 1000 > timeoutSeconds) {
        throw new StackError(`the S3 servers did not answer within ${timeoutSeconds} s (${(error as Error).message})`, {
          hint: `see docker logs of the ${ctx.project} s3 and s3-tls containers`,
        });
      }
      await sleep(500);
    }
  }
}

async function ensureBucket(client: S3Client, bucket: string, lock: boolean): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }));
  }
}

/** The writer account (role user) through the admin API, inside the container so its keys stay out of any argv. */
async function ensureWriter(ctx: OffsiteContext): Promise<void> {
  const script =
    'versitygw admin --er http://127.0.0.1:9001 -a "$ROOT_ACCESS_KEY" -s "$ROOT_SECRET_KEY" list-users | grep -q "$WRITER_ACCESS_KEY" ' +
    '|| versitygw admin --er http://127.0.0.1:9001 -a "$ROOT_ACCESS_KEY" -s "$ROOT_SECRET_KEY" create-user -a "$WRITER_ACCESS_KEY" -s "$WRITER_SECRET_KEY" -r user';
  await runCompose(offsiteComposeProject(ctx), ['exec', '-T', 's3', 'sh', '-c', script], { echo: () => undefined });
}

/** Put (single and multipart) on the archive bucket, nothing else. */
function writerPolicy(bucket: string, writer: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [writer] },
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObjectRetention'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  });
}

export const s3Part: OffsitePart = {
  services: ['s3', 's3-tls'],
  required: ['S3_HTTP_PORT', 'S3_HTTPS_PORT', 'S3_ROOT_ACCESS_KEY', 'S3_ROOT_SECRET_KEY', 'S3_WRITER_ACCESS_KEY', 'S3_WRITER_SECRET_KEY', 'S3_REGION', 'S3_BUCKET', 'S3_LOCK_BUCKET'],
  env: async () => [
    ['S3_HTTP_PORT', String(await freePort())],
    ['S3_HTTPS_PORT', String(await freePort())],
    ['S3_ROOT_ACCESS_KEY', randomSecret(20)],
    ['S3_ROOT_SECRET_KEY', randomSecret(40)],
    ['S3_WRITER_ACCESS_KEY', randomSecret(20)],
    ['S3_WRITER_SECRET_KEY', randomSecret(40)],
    ['S3_REGION', 'us-east-1'],
    ['S3_BUCKET', 'archives'],
    ['S3_LOCK_BUCKET', 'locked-archives'],
  ],
  async prepare(ctx) {
    for (const folder of ['buckets', 'versions', 'iam']) await mkdir(join(ctx.dir, 's3', folder), { recursive: true });
    await makeTls(tlsDir(ctx));
  },
  async ready(ctx, timeoutSeconds) {
    const ca = await readFile(join(tlsDir(ctx), 'ca.pem'));
    await waitForHealth(ctx, ca, timeoutSeconds);
    const client = rootClient(ctx, ca);
    try {
      await ensureBucket(client, ctx.env.S3_BUCKET!, false);
      await ensureBucket(client, ctx.env.S3_LOCK_BUCKET!, true);
      await ensureWriter(ctx);
      await client.send(new PutBucketPolicyCommand({ Bucket: ctx.env.S3_BUCKET!, Policy: writerPolicy(ctx.env.S3_BUCKET!, ctx.env.S3_WRITER_ACCESS_KEY!) }));
    } finally {
      client.destroy();
    }
  },
  settings: (ctx) => [
    ['HOSSADM_S3_ENDPOINT', httpsEndpoint(ctx)],
    ['HOSSADM_S3_CA_FILE', join(tlsDir(ctx), 'ca.pem')],
    ['HOSSADM_S3_REGION', ctx.env.S3_REGION!],
    ['AWS_ACCESS_KEY_ID', ctx.env.S3_ROOT_ACCESS_KEY!],
    ['AWS_SECRET_ACCESS_KEY', ctx.env.S3_ROOT_SECRET_KEY!],
    ['HOSSADM_TEST_S3_HTTP_ENDPOINT', httpEndpoint(ctx)],
    ['HOSSADM_TEST_S3_WRITER_ACCESS_KEY_ID', ctx.env.S3_WRITER_ACCESS_KEY!],
    ['HOSSADM_TEST_S3_WRITER_SECRET_ACCESS_KEY', ctx.env.S3_WRITER_SECRET_KEY!],
    ['HOSSADM_TEST_S3_TARGET', `s3://${ctx.env.S3_BUCKET}/backups`],
    ['HOSSADM_TEST_S3_LOCK_TARGET', `s3://${ctx.env.S3_LOCK_BUCKET}/backups`],
  ],
};
