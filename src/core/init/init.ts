// hossadm init: reads a running Compose project and writes a profile for it
// (DIR/hossadm-profile.json) plus the .env its references need. Secrets are
// copied from the containers' environment into DIR/.env (mode 0600) and are
// referenced by name in the profile; they are never printed.
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, pathExists, writeJson } from 'fs-extra/esm';
import { registeredKinds, registeredRecognisers } from '../../components/index.ts';
import type { KindRecogniser } from '../../components/registry.ts';
import { parseEnv, updateEnvText } from '../../config/env-file.ts';
import { validateProfile } from '../../config/profile.ts';
import type { DockerClient } from '../../docker/types.ts';
import { PreflightError } from '../../errors.ts';
import type { Reporter } from '../../ui/reporter.ts';
import { chooseProject, readProject, type ServiceFacts } from './facts.ts';
import { type InitPlan, recognise, recogniserFor } from './recognise.ts';

/** The profile init writes into a stack's config folder; later runs with that --config-dir use it. */
export const PROFILE_FILE = 'hossadm-profile.json';

export interface InitRequest {
  project: string | undefined;
  configDir: string;
  backupRoot: string | undefined;
  dryRun: boolean;
  /** Replace an existing hossadm-profile.json. */
  force: boolean;
}

export interface InitResult {
  project: string;
  profilePath: string;
  envPath: string;
  written: boolean;
  /** Names added to .env (values not shown). */
  envAdded: string[];
  profile: Record<string, unknown>;
  notes: string[];
}

/** A value as a .env line holds it: plain when safe, else double-quoted the way Compose reads it. */
export function envValue(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]*$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

async function isDir(path: string): Promise<boolean | undefined> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => undefined,
  );
}

/** Asks each running service what its recogniser wants to know of it (e.g. a server's databases): by question, then by service. */
async function askServices(
  docker: DockerClient,
  services: ServiceFacts[],
  recognisers: readonly KindRecogniser[],
): Promise<Record<string, Record<string, unknown>>> {
  const answers: Record<string, Record<string, unknown>> = {};
  for (const s of services) {
    const ask = recogniserFor(s, recognisers)?.recogniser.ask;
    if (!ask || !s.running) continue;
    const answer = await ask.run(s, docker);
    answers[ask.question] ??= {};
    if (answer !== undefined) answers[ask.question]![s.service] = answer;
  }
  return answers;
}

async function helperImage(docker: DockerClient): Promise<string> {
  for (const image of ['busybox', 'hoss-local/busybox:local']) if (await docker.imageExists(image)) return image;
  return 'busybox';
}

export async function runInit(deps: { docker: DockerClient; reporter: Reporter }, request: InitRequest): Promise<InitResult> {
  const { docker, reporter } = deps;
  await docker.ping();
  const project = await chooseProject(docker, request.project);
  const facts = await reporter.step(
    `read compose project ${project}`,
    () => readProject(docker, project, isDir),
    (f) => `${f.services.length} service(s)`,
  );
  const recognisers = registeredRecognisers();
  const plan: InitPlan = recognise(facts, {
    answers: await askServices(docker, facts.services, recognisers),
    configDir: request.configDir,
    kinds: registeredKinds().map((k) => k.name),
    recognisers,
    helperImage: await helperImage(docker),
    ...(request.backupRoot ? { backupRoot: request.backupRoot } : {}),
  });
  // What init writes must load: a profile that fails here is a bug of init, said plainly.
  validateProfile(plan.profile);

  const profilePath = join(request.configDir, PROFILE_FILE);
  const envPath = join(request.configDir, '.env');
  const existingEnv = await readFile(envPath, 'utf8').catch(() => undefined);
  const present = existingEnv === undefined ? {} : parseEnv(existingEnv, envPath);
  const envAdded = Object.keys(plan.env).filter((k) => present[k] === undefined);
  const result: InitResult = { project, profilePath, envPath, written: false, envAdded, profile: plan.profile, notes: plan.notes };
  if (request.dryRun) return result;

  const profileExists = await pathExists(profilePath);
  if (profileExists && !request.force) {
    throw new PreflightError(`${profilePath} already exists`, { hint: 'review or move it away, or add --force to replace it (the .env keeps its values)' });
  }
  for (const [name, value] of Object.entries(present)) {
    if (plan.env[name] !== undefined && plan.env[name] !== value && !plan.secrets.includes(name)) {
      reporter.warn(`${envPath} says ${name}=${value}, the running project ${plan.env[name]}; the .env is kept as it is`);
    }
  }
  await ensureDir(request.configDir, { mode: 0o700 });
  await writeJson(profilePath, plan.profile, { spaces: 2, mode: 0o644 });
  const additions = Object.fromEntries(envAdded.map((k) => [k, envValue(plan.env[k]!)]));
  const header = existingEnv === undefined ? `# Written by hossadm init for the Compose project ${project}; holds secrets: keep it 0600.\n` : '';
  await writeFile(envPath, header + updateEnvText(existingEnv ?? '', additions).replace(/^\n/, ''), { mode: 0o600 });
  await chmod(envPath, 0o600);
  result.written = true;
  return result;
}

export function renderInit(result: InitResult, dryRun: boolean): string {
  const lines = dryRun ? [JSON.stringify(result.profile, null, 2), ''] : [`wrote ${result.profilePath}`];
  if (result.envAdded.length > 0) lines.push(`${dryRun ? 'would add' : 'added'} to ${result.envPath}: ${result.envAdded.join(', ')} (values not shown)`);
  lines.push(...result.notes.map((n) => `- ${n}`));
  if (!dryRun) lines.push(`review it, then: hossadm --config-dir ${result.envPath.replace(/\/\.env$/, '')} backup --dry-run`);
  return lines.join('\n');
}
