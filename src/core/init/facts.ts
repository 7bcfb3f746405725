// What `hossadm init` learns of a running Compose project: its containers
// (found by compose's labels), their images, labels, mounts and environment,
// and, when the compose files are known from the labels, what `compose
// config` says of services that do not run. Only reads.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathExists, remove } from 'fs-extra/esm';
import type { DockerClient } from '../../docker/types.ts';
import { PROJECT_LABEL, SERVICE_LABEL } from '../../docker/compose-services.ts';
import { renderServices } from '../../docker/compose-config.ts';
import { StackError, UsageError } from '../../errors.ts';

export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';
export const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';

export interface MountFacts {
  type: 'bind' | 'volume' | 'other';
  /** Host path (bind) or the engine's volume name (volume). */
  source: string;
  destination: string;
  readOnly: boolean;
  /** A bind mount of a folder (not a single file or socket); undefined when it could not be told. */
  isDir?: boolean;
}

export interface ServiceFacts {
  service: string;
  container: string;
  containerId: string;
  image: string;
  running: boolean;
  labels: Record<string, string>;
  env: Record<string, string>;
  /** The container's command line (entry point and arguments): a recogniser may read settings from it. */
  command: string[];
  mounts: MountFacts[];
}

export interface ProjectFacts {
  project: string;
  /** The compose files from the containers' labels, absolute. */
  configFiles: string[];
  workingDir: string | undefined;
  services: ServiceFacts[];
  /** Services the compose files define that have no container. */
  notRunning: string[];
  /** Why `compose config` could not be read, when it could not. */
  composeProblem: string | undefined;
}

/** The one project there is, or the one named; a UsageError listing them otherwise. */
export async function chooseProject(docker: DockerClient, named: string | undefined): Promise<string> {
  const containers = await docker.listContainers({ labels: { [PROJECT_LABEL]: true } });
  const projects = [...new Set(containers.map((c) => c.project).filter(Boolean))].sort();
  if (named) {
    if (!projects.includes(named)) {
      throw new StackError(`no containers of compose project "${named}" exist`, {
        hint: projects.length ? `projects here: ${projects.join(', ')}` : 'bring the project up first',
      });
    }
    return named;
  }
  if (projects.length === 1) return projects[0]!;
  if (projects.length === 0) throw new StackError('no Compose project runs on this engine', { hint: 'bring the project up first (docker compose up -d)' });
  throw new UsageError(`${projects.length} Compose projects run here; name one with --project`, { hint: `one of ${projects.join(', ')}` });
}

function envOf(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of list ?? []) {
    const at = line.indexOf('=');
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** Reads every container of the project, then (when possible) what compose config says. */
export async function readProject(docker: DockerClient, project: string, isDir: (path: string) => Promise<boolean | undefined>): Promise<ProjectFacts> {
  const containers = await docker.listContainers({ labels: { [PROJECT_LABEL]: project } });
  const services: ServiceFacts[] = [];
  let configFiles: string[] = [];
  let workingDir: string | undefined;
  for (const c of containers.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name))) {
    const info = await docker.inspectContainer(c.id);
    const labels = info.Config.Labels ?? {};
    // One container per service is enough to learn it (replicas share mounts and labels).
    if (services.some((s) => s.service === (labels[SERVICE_LABEL] ?? c.service))) continue;
    if (!configFiles.length && labels[CONFIG_FILES_LABEL]) configFiles = labels[CONFIG_FILES_LABEL].split(',').filter(Boolean);
    workingDir ??= labels[WORKING_DIR_LABEL] || undefined;
    const mounts: MountFacts[] = [];
    for (const m of info.Mounts ?? []) {
      const type = m.Type === 'bind' ? 'bind' : m.Type === 'volume' ? 'volume' : 'other';
      const source = type === 'volume' ? (m.Name ?? m.Source) : m.Source;
      mounts.push({ type, source, destination: m.Destination, readOnly: m.RW === false, ...(type === 'bind' ? { isDir: await isDir(source) } : {}) });
    }
    services.push({
      service: labels[SERVICE_LABEL] ?? c.service,
      container: info.Name.replace(/^\//, ''),
      containerId: c.id,
      image: info.Config.Image ?? c.image,
      running: info.State.Running,
      labels,
      env: envOf(info.Config.Env),
      command: [
        ...(Array.isArray(info.Config.Entrypoint) ? info.Config.Entrypoint : info.Config.Entrypoint ? [info.Config.Entrypoint] : []),
        ...(info.Config.Cmd ?? []),
      ],
      mounts,
    });
  }
  let notRunning: string[] = [];
  let composeProblem: string | undefined;
  let scratch: string | undefined;
  if (configFiles.length > 0) {
    try {
      // Compose reads the project folder's .env for ${VARS}; an empty one stands in when there is none.
      let envFile = workingDir ? join(workingDir, '.env') : undefined;
      if (!envFile || !(await pathExists(envFile))) {
        scratch = await mkdtemp(join(tmpdir(), 'hossadm-init-'));
        envFile = join(scratch, 'empty.env');
        await writeFile(envFile, '');
      }
      const rendered = await renderServices({ project, files: configFiles, envFile, env: process.env });
      notRunning = Object.keys(rendered)
        .filter((name) => !services.some((s) => s.service === name))
        .sort();
    } catch (error) {
      composeProblem = error instanceof Error ? error.message.split('\n')[0] : String(error);
    } finally {
      if (scratch) await remove(scratch);
    }
  } else {
    composeProblem = `the containers do not carry ${CONFIG_FILES_LABEL}`;
  }
  return { project, configFiles, workingDir, services, notRunning, composeProblem };
}
