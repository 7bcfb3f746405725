// Where the offsite test servers live: OFFSITE_DIR (or --dir, default
// ~/offsite), its .env, the Compose project and files. The first `up`
// writes .env with free 127.0.0.1 ports and fresh keys; every server kind
// of the stack (offsite/parts.ts) adds its own variables.
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type EnvMap, parseEnv } from '../../../src/config/env-file.ts';
import type { ComposeProject } from '../../../src/docker/compose-cli.ts';
import { REPO_ROOT } from '../context.ts';
import { say } from '../runtime.ts';
import { checkStackDir, composeFilesFrom, readStackEnv } from '../stack-folder.ts';

export const OFFSITE_COMPOSE_FILES = [join(REPO_ROOT, 'compose', 'offsite', 'docker-compose.yaml')];

export interface OffsiteContext {
  dir: string;
  envPath: string;
  env: EnvMap;
  project: string;
  composeFiles: string[];
}

export function offsiteDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.OFFSITE_DIR?.trim();
  return resolve(raw ? raw : join(homedir(), 'offsite'));
}

const HINT = 'run compose/stack --stack offsite up first, or set OFFSITE_DIR / --dir';

export function checkOffsiteDir(dir: string): Promise<boolean> {
  return checkStackDir(dir, 'OFFSITE_DIR', 'point OFFSITE_DIR or --dir at a folder, or remove that file');
}

export async function loadOffsiteContext(dir: string, required: readonly string[]): Promise<OffsiteContext> {
  const { envPath, env } = await readStackEnv(dir, {
    variable: 'OFFSITE_DIR', hint: HINT, checkDir: checkOffsiteDir, required: ['COMPOSE_PROJECT_NAME', ...required], noConfigOf: 'offsite stack',
  });
  return { dir, envPath, env, project: env.COMPOSE_PROJECT_NAME!, composeFiles: composeFilesFrom(env, OFFSITE_COMPOSE_FILES) };
}

export function offsiteComposeProject(ctx: OffsiteContext): ComposeProject {
  return { project: ctx.project, files: ctx.composeFiles, envFile: ctx.envPath, env: { ...process.env, ...ctx.env, OFFSITE_DIR: ctx.dir } };
}

/** A port nothing listens on right now on 127.0.0.1, from the range no system service uses. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = randomInt(20000, 60000);
    const free = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
    });
    if (free) return port;
  }
}

/** .env on first use: the project and files, then what each part of the stack asks for. */
export async function ensureOffsiteEnv(dir: string, parts: ReadonlyArray<() => Promise<Array<[string, string]>>>): Promise<void> {
  const envPath = join(dir, '.env');
  if (existsSync(envPath)) return addMissing(envPath, parts);
  await mkdir(dir, { recursive: true });
  const lines: Array<[string, string]> = [
    // Tests name their own project so that they never meet an operator's.
    ['COMPOSE_PROJECT_NAME', process.env.COMPOSE_PROJECT_NAME || 'offsite'],
    ['COMPOSE_FILE', OFFSITE_COMPOSE_FILES.join(':')],
  ];
  for (const part of parts) lines.push(...(await part()));
  await writeFile(envPath, `# Offsite test servers (compose/stack --stack offsite); written by the first up.\n${lines.map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  say(`wrote ${envPath}`);
}

/** A .env written before a part joined the stack gets that part's variables; nothing already there changes. */
async function addMissing(envPath: string, parts: ReadonlyArray<() => Promise<Array<[string, string]>>>): Promise<void> {
  const text = await readFile(envPath, 'utf8');
  const present = new Set(Object.keys(parseEnv(text, envPath)));
  const missing: Array<[string, string]> = [];
  for (const part of parts) missing.push(...(await part()).filter(([key]) => !present.has(key)));
  if (missing.length === 0) return;
  await writeFile(envPath, `${text.replace(/\n?$/, '\n')}${missing.map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  say(`added ${missing.map(([k]) => k).join(', ')} to ${envPath}`);
}
