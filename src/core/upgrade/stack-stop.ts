// The upgrade's downtime starts here: every running container of the
// project stops, the writing services first so that none of them sees its
// database vanish under it. Compose then recreates what the new version
// changes and starts the rest as they were.
import type { StackConfig } from '../../config/stack-config.ts';
import { projectContainers } from '../../docker/compose-services.ts';
import type { ContainerInfo, DockerClient } from '../../docker/types.ts';
import { stopWriters, writerContainers } from '../writers.ts';

export async function stopStack(docker: DockerClient, config: StackConfig): Promise<ContainerInfo[]> {
  const running = (await projectContainers(docker, config.project)).filter((c) => c.state === 'running');
  await stopWriters(docker, writerContainers(running, config.dataServices));
  await stopWriters(docker, running.filter((c) => config.dataServices.includes(c.service)));
  return running;
}
