// Finds a stack's containers by their Compose labels, so that both the v1
// naming (server_db_1) and the v2 naming (server-db-1) work, and so does a
// stack whose project name is not its folder's name.
import { StackError } from '../errors.ts';
import type { ContainerInfo, DockerClient } from './types.ts';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';

export async function projectContainers(docker: DockerClient, project: string): Promise<ContainerInfo[]> {
  return docker.listContainers({ labels: { [PROJECT_LABEL]: project } });
}

/** The one container of a service; one-off `run` containers are ignored. */
export function pickServiceContainer(containers: readonly ContainerInfo[], project: string, service: string): ContainerInfo {
  const candidates = containers.filter(
    (c) => c.project === project && c.service === service && c.labels['com.docker.compose.oneoff'] !== 'True',
  );
  if (candidates.length === 0) {
    throw new StackError(`service "${service}" of compose project "${project}" has no container`, {
      hint: `bring the stack up (docker compose -p ${project} up -d) or fix COMPOSE_PROJECT_NAME in .env`,
    });
  }
  // Scaled services: prefer a running container, then the lowest number.
  const sorted = [...candidates].sort((a, b) => {
    const running = Number(b.state === 'running') - Number(a.state === 'running');
    if (running !== 0) return running;
    return Number(a.labels['com.docker.compose.container-number'] ?? 0) - Number(b.labels['com.docker.compose.container-number'] ?? 0);
  });
  return sorted[0]!;
}

export async function findServiceContainer(docker: DockerClient, project: string, service: string): Promise<ContainerInfo> {
  return pickServiceContainer(await projectContainers(docker, project), project, service);
}

export function requireRunning(container: ContainerInfo): void {
  if (container.state !== 'running') {
    throw new StackError(`container ${container.name} (service "${container.service}") is ${container.state}, not running`, {
      hint: `start it (docker start ${container.name}) and run again`,
    });
  }
}
