// Removes everything the engine holds for one compose project: its
// containers (forced), the anonymous volumes they made (an image's VOLUME
// without a mount, e.g. postgres' data folder in a service that does not
// bind it), then the networks and volumes labelled with the project. For the
// throwaway copy a restore test brings up, whose project name hossadm chose
// itself; it removes data, so it is never given a live project.
import { PROJECT_LABEL, projectContainers } from './compose-services.ts';
import type { DockerClient } from './types.ts';

export interface RemovedProject {
  containers: number;
  networks: number;
  volumes: number;
}

/** The engine names an anonymous volume with 64 hex digits and no labels. */
const ANONYMOUS = /^[0-9a-f]{64}$/;

export async function removeProject(docker: DockerClient, project: string): Promise<RemovedProject> {
  const labels = { [PROJECT_LABEL]: project };
  const containers = await projectContainers(docker, project);
  const anonymous = new Set<string>();
  for (const container of containers) {
    const info = await docker.inspectContainer(container.id);
    for (const mount of info.Mounts ?? []) if (mount.Type === 'volume' && mount.Name && ANONYMOUS.test(mount.Name)) anonymous.add(mount.Name);
    await docker.removeContainer(container.id);
  }
  // Volumes and networks go only once no container uses them. An external
  // volume a container mounted is neither anonymous nor labelled with this project: it stays.
  let removedAnonymous = 0;
  for (const name of anonymous) {
    const volume = await docker.inspectVolume(name);
    if (volume && Object.keys(volume.labels).length === 0) {
      await docker.removeVolume(name);
      removedAnonymous += 1;
    }
  }
  const networks = await docker.removeNetworks({ labels });
  const volumes = await docker.listVolumes({ labels });
  for (const volume of volumes) await docker.removeVolume(volume.name);
  return { containers: containers.length, networks, volumes: volumes.length + removedAnonymous };
}
