// The verbs' sequences every reference stack runs the same way: up (engine,
// .env on first use, images, folders, compose up, wait until every service
// answers), seed and fingerprint of a stack that answers, down. Each stack
// says how to load its context, which Compose project it is, how to wait
// for it and what its own steps are.
import { runCompose, type ComposeProject } from '../../src/docker/compose-cli.ts';
import { UsageError } from '../../src/errors.ts';
import { docker, say } from './runtime.ts';
import { ensureEngine, ensureImages } from './scripts.ts';
import { renderFingerprint } from './verbs/fingerprint.ts';

const DEFAULT_TIMEOUT_SECONDS = 300;

export function upTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.HOSS_STACK_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_SECONDS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`HOSS_STACK_TIMEOUT must be a whole number of seconds, not "${raw}"`);
  return value;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** What the shared sequences need of a stack. */
export interface ReferenceStack<C extends { project: string }> {
  load(dir: string): Promise<C>;
  compose(ctx: C): ComposeProject;
  /** Resolves when every service answers; `verbose` reports what each waits for and when it answered. */
  wait(ctx: C, timeoutSeconds: number, verbose: boolean): Promise<void>;
}

/** What `up` does beyond the shared sequence. */
export interface StackStart<C> {
  /** False when the folder does not exist yet; throws when it is not a folder. */
  checkDir(dir: string): Promise<boolean>;
  /** Writes .env on first use. */
  ensureEnv(dir: string): Promise<boolean>;
  /** The local images the services run on (busybox included: the helper). */
  images(ctx: C): readonly string[];
  /** Config files and bind sources, made and owned before compose starts anything. */
  prepare(ctx: C): Promise<void>;
  /** The services the progress line names. */
  services(ctx: C): readonly string[];
  /** Start only those services (HOSS's SERVICES); else compose starts all of its files'. */
  only?: boolean;
  /** The closing line's seconds in tenths rather than whole. */
  tenths?: boolean;
  /** Work between compose's `up` and the final wait (Wire: its schema once the nodes answer, then brig). */
  afterUp?(ctx: C, timeoutSeconds: number): Promise<void>;
}

export async function upStack<C extends { project: string }>(dir: string, stack: ReferenceStack<C>, start: StackStart<C>): Promise<void> {
  const started = Date.now();
  const timeout = upTimeoutSeconds();
  await start.checkDir(dir);
  await ensureEngine();
  await docker.ping();
  await start.ensureEnv(dir);
  const ctx = await stack.load(dir);
  await ensureImages(start.images(ctx));
  await start.prepare(ctx);
  const services = start.services(ctx);
  say(`starting project ${ctx.project} (${services.join(' ')}) from ${dir}`);
  await runCompose(stack.compose(ctx), ['up', '-d', '--remove-orphans', ...(start.only ? services : [])]);
  await start.afterUp?.(ctx, timeout);
  await stack.wait(ctx, timeout, true);
  const took = (Date.now() - started) / 1000;
  say(`stack ${ctx.project} is up (${start.tenths ? took.toFixed(1) : Math.round(took)} s)`);
}

/** A stack that is not answering within `waitSeconds` gets a clear error, not a half seed. */
export async function seedStack<C extends { project: string }>(
  dir: string,
  scale: number,
  stack: ReferenceStack<C>,
  run: (ctx: C, scale: number) => Promise<void>,
  waitSeconds = 30,
): Promise<void> {
  const started = Date.now();
  const ctx = await stack.load(dir);
  await docker.ping();
  await stack.wait(ctx, waitSeconds, false);
  await run(ctx, scale);
  say(`seed --scale ${scale} done in ${seconds(started)} s`);
}

/**
 * A stack at rest: just started (a restore, a restart), a service may still
 * be rebuilding its index; the fingerprint waits for every service to answer.
 */
export async function fingerprintStack<C extends { project: string }>(
  dir: string,
  stack: ReferenceStack<C>,
  compute: (ctx: C) => Promise<Record<string, unknown>>,
): Promise<string> {
  const started = Date.now();
  const ctx = await stack.load(dir);
  await docker.ping();
  await stack.wait(ctx, upTimeoutSeconds(), false);
  const text = renderFingerprint(await compute(ctx));
  say(`fingerprint of ${ctx.project} in ${seconds(started)} s`);
  return text;
}

/** Containers and network go; volumes, data folders and config stay. */
export async function downStack<C extends { project: string }>(dir: string, stack: ReferenceStack<C>): Promise<void> {
  const ctx = await stack.load(dir);
  await docker.ping();
  await runCompose(stack.compose(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}
