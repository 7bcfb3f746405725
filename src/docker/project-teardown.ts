// Removes everything the engine holds for one compose project: its
// containers (forced), then the networks and volumes labelled with it. For
// the throwaway copy a restore test brings up, whose project name hossadm
// chose itself; it removes data, so it is never given a live project.
import { PROJECT_LABEL, projectContainers } from './compose-services.ts';
import type { DockerClient } from './types.ts';

export interface RemovedProject {
  containers: number;
  networks: number;
  volumes: number;
}

export async function removeProject(docker: DockerClient, project: string): Promise<RemovedProject> {
  const labels = { [PROJECT_LABEL]: project };
  const containers = await projectContainers(docker, project);
  for (const container of containers) await docker.removeContainer(container.id);
  // Volumes and networks go only once no container uses them.
  const networks = await docker.removeNetworks({ labels });
  const volumes = await docker.listVolumes({ labels });
  for (const volume of volumes) await docker.removeVolume(volume.name);
  return { containers: containers.length, networks, volumes: volumes.length };
}
