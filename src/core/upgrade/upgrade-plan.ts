// What an upgrade will do, worked out before anything is touched: the
// running and target versions, the .env lines that change, the services
// Compose would recreate (and how), and the release's own notes (a schema
// migration, say). The operator reads this before answering any question.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EnvMap } from '../../config/env-file.ts';
import type { StackConfig } from '../../config/stack-config.ts';
import type { RenderedServices } from '../../docker/compose-config.ts';
import { ConfigError, PreflightError, UsageError } from '../../errors.ts';
import { diffServices, type ServiceChange } from './service-diff.ts';
import { checkVersionName, versionEnvChanges } from './version-switch.ts';

/** Compose's rendering of the stack with some .env values replaced. */
export type ServiceRenderer = (overrides: EnvMap) => Promise<RenderedServices>;

export interface UpgradePlan {
  project: string;
  configDir: string;
  from: string;
  to: string;
  envChanges: { key: string; from: string | undefined; to: string }[];
  /** Undefined when Compose cannot render the stack (.env names no compose files). */
  services: ServiceChange[] | undefined;
  unchangedServices: string[];
  /** Services expected to run after the upgrade, when the rendering tells. */
  servicesAfter: string[] | undefined;
  notes: string | undefined;
}

/** The folder of the stack's compose files: where its VERSION file and release notes live. */
function composeFolder(config: StackConfig): string | undefined {
  const first = config.compose.files[0];
  return first ? dirname(first) : undefined;
}

export function runningVersion(config: StackConfig): string {
  const variable = config.profile.versionVariable;
  if (!config.stackVersion) {
    throw new ConfigError(`${config.envPath} does not say which version runs (${variable})`, {
      hint: `add ${variable}=<the running version> to ${config.envPath}`,
    });
  }
  return config.stackVersion;
}

/** --to, or else the version the checked-out compose files are for (the profile's version file). */
export async function targetVersion(config: StackConfig, requested: string | undefined): Promise<string> {
  if (requested !== undefined) return checkVersionName(requested);
  const folder = composeFolder(config);
  const file = config.profile.upgrade?.versionFile;
  if (!folder || !file) throw new UsageError('name the version to upgrade to with --to VERSION');
  const path = join(folder, file);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) throw new UsageError(`no version file at ${path}: name the version with --to VERSION`);
  return checkVersionName(text.trim());
}

export async function releaseNotes(config: StackConfig, version: string): Promise<string | undefined> {
  const folder = composeFolder(config);
  const template = config.profile.upgrade?.notesFile;
  if (!folder || !template) return undefined;
  const text = await readFile(join(folder, template.replaceAll('{version}', version)), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

export async function planUpgrade(
  config: StackConfig,
  to: string,
  render: ServiceRenderer | undefined,
  environment: Record<string, string | undefined>,
): Promise<UpgradePlan> {
  const from = runningVersion(config);
  const changes = versionEnvChanges(config.env, config.profile.versionVariable, from, to);
  // Compose takes a variable from its own environment over .env's: a stray
  // export would silently keep the old version running.
  const shadowed = Object.keys(changes).filter((key) => environment[key] !== undefined);
  if (shadowed.length > 0) {
    throw new PreflightError(`${shadowed.join(', ')} set in hossadm's environment would override ${config.envPath} for Compose`, {
      hint: `unset ${shadowed.join(' ')} and run again`,
    });
  }
  let services: ServiceChange[] | undefined;
  let unchangedServices: string[] = [];
  let servicesAfter: string[] | undefined;
  if (render && config.compose.files.length > 0) {
    const old = Object.fromEntries(Object.keys(changes).map((key) => [key, config.env[key] ?? '']));
    const before = await render(old);
    const after = await render(changes);
    services = diffServices(before, after);
    const changed = new Set(services.map((s) => s.service));
    unchangedServices = Object.keys(after).filter((s) => !changed.has(s)).sort();
    servicesAfter = Object.keys(after).sort();
  }
  return {
    project: config.project,
    configDir: config.configDir,
    from,
    to,
    envChanges: Object.entries(changes).map(([key, value]) => ({ key, from: config.env[key], to: value })),
    services,
    unchangedServices,
    servicesAfter,
    notes: await releaseNotes(config, to),
  };
}

export function describeUpgrade(plan: UpgradePlan): string[] {
  const lines = [
    `stack ${plan.project} (config ${plan.configDir})`,
    `running version ${plan.from}, target version ${plan.to}`,
    ...plan.envChanges.map((c) => `.env: ${c.key} ${c.from ?? '(unset)'} -> ${c.to}`),
  ];
  if (!plan.services) lines.push('services: .env names no compose files (COMPOSE_FILE), so which services change is not known in advance');
  else if (plan.services.length === 0) lines.push('services: no service\'s image or settings change');
  else {
    for (const s of plan.services) {
      if (s.kind === 'removed') lines.push(`service ${s.service}: removed in ${plan.to}`);
      else lines.push(`service ${s.service}${s.kind === 'added' ? ' (new)' : ''}: ${s.changes.join('; ')}`);
    }
    if (plan.unchangedServices.length > 0) lines.push(`unchanged: ${plan.unchangedServices.join(', ')}`);
  }
  if (plan.notes) lines.push(`release notes for ${plan.to}: ${plan.notes}`);
  return lines;
}
