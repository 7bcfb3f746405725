// Bulk data crosses between hossadm and a data service through a host folder
// the service's container bind-mounts (the dump folder, the snapshot
// repository). Its host side is read from the running container, so a stack
// whose BACKUP_ROOT moved still uses the folder that is really mounted.
import { PreflightError } from '../errors.ts';
import type { RunContext } from './component.ts';

export async function hostFolderMountedAt(ctx: RunContext, containerId: string, service: string, target: string, fix: string): Promise<string> {
  const info = await ctx.docker.inspectContainer(containerId);
  const mount = (info.Mounts ?? []).find((m) => m.Destination === target);
  if (mount?.Type !== 'bind') {
    throw new PreflightError(`the ${service} container does not bind-mount a host folder at ${target}`, { hint: fix });
  }
  return mount.Source;
}
