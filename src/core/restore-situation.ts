// Which restore this is, decided before anything changes: onto a fresh host
// (the profile's marker file, the .env by default, is absent: everything is
// placed from the archive, then the stack is started), in place over the
// running stack, or the rerun of a restore that did not finish. A relocated
// restore (verify --restore-test) is always a fresh one, into its own folder.
import { join } from 'node:path';
import { pathExists } from 'fs-extra/esm';
import { parseEnv } from '../config/env-file.ts';
import { loadStackConfig, resolveConfigDir, stackConfigFromEnv, type StackConfig } from '../config/stack-config.ts';
import type { RestoreSituation } from '../components/component.ts';
import type { EnvMap } from '../config/env-file.ts';
import { projectContainers } from '../docker/compose-services.ts';
import { PreflightError } from '../errors.ts';
import { archivedEnv } from './archived-env.ts';
import { STACK_ENV_MEMBER } from './manifest.ts';
import { assertRelocated, relocateEnv } from './relocate.ts';
import type { RestoreDeps, RestoreOptions } from './restore.ts';
import { unfinishedRestore } from './restore-marker.ts';

export interface RestoreSituationFound {
  /** The config the restore works with: the live one in place, else the archived (possibly relocated) one. */
  config: StackConfig;
  archived: StackConfig;
  situation: RestoreSituation;
  resuming: boolean;
  /** Resuming a fresh-host restore in place: the stack it started may lack its application services yet. */
  resumedFresh: boolean;
  configDir: string;
  envText: string;
  relocation: EnvMap;
}

export async function findSituation(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreSituationFound> {
  const { docker, reporter } = deps;
  const { relocate } = options;
  const configDir = relocate?.configDir ?? resolveConfigDir(deps.profile, deps.source);
  const envText = await archivedEnv(options.archive, options.identities);
  let envMap = parseEnv(envText, STACK_ENV_MEMBER);
  const relocation = relocate ? relocateEnv(deps.profile, envMap, relocate, resolveConfigDir(deps.profile, { environment: deps.source.environment, home: deps.source.home })) : {};
  envMap = { ...envMap, ...relocation };
  const archived = stackConfigFromEnv(deps.profile, configDir, envMap, deps.source.home);
  if (relocate) assertRelocated(archived, relocate);
  await docker.ping();
  // The profile's marker file (the .env by default) says the stack is installed here.
  const liveEnvExists = await pathExists(join(configDir, deps.profile.marker));
  let config: StackConfig = archived;
  let situation: RestoreSituation = 'fresh';
  const unfinished = await unfinishedRestore(configDir);
  if (liveEnvExists) {
    if (relocate) throw new PreflightError(`${configDir}/${deps.profile.marker} exists; a relocated restore goes into an empty folder only`);
    config = await loadStackConfig(deps.profile, deps.source);
    situation = 'in-place';
  }
  const containers = await projectContainers(docker, config.project);
  // A restore that did not finish left its marker. A fresh-host one may also
  // have left the .env and containers it made; nothing there predates it, so
  // the rerun goes on as on a fresh host while none of the stack runs yet
  // (every member is placed again), else in place over the stack it started.
  const resuming = unfinished !== undefined && !relocate;
  if (resuming) {
    if (unfinished.startsWith('fresh') && liveEnvExists && !containers.some((c) => c.state === 'running')) {
      situation = 'fresh';
      config = archived;
    }
    reporter.warn(`resuming the restore that an earlier run did not finish (${unfinished}): ${situation === 'fresh' ? 'placing everything again as on a fresh host' : 'restoring in place over the running stack'}`);
  }
  if (situation === 'fresh' && containers.length > 0 && !resuming) {
    throw new PreflightError(`containers of project "${config.project}" exist but ${configDir}/${deps.profile.marker} does not`, {
      hint: `remove the containers (docker compose -p ${config.project} down) for a fresh-host restore, or restore the .env first`,
    });
  }
  if (situation === 'in-place' && containers.filter((c) => c.state === 'running').length === 0) {
    throw new PreflightError(`${configDir}/${deps.profile.marker} exists but no container of project "${config.project}" runs`, {
      hint: 'bring the stack up to restore in place, or move the config folder aside to restore as on a fresh host',
    });
  }

  const resumedFresh = resuming && situation === 'in-place' && unfinished!.startsWith('fresh');
  return { config, archived, situation, resuming, resumedFresh, configDir, envText, relocation };
}
