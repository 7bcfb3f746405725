// A service's running container and address, found by compose labels, and
// exec with the exit code checked. The *InProject functions serve every
// reference stack; the others are HOSS's, typed by its service names.
import { findServiceContainer, requireRunning } from '../../../src/docker/compose-services.ts';
import type { ContainerInfo, ExecOptions } from '../../../src/docker/types.ts';
import { OperationError } from '../../../src/errors.ts';
import type { ServiceName, StackContext } from '../context.ts';
import { docker } from '../runtime.ts';

export async function runningServiceInProject(project: string, service: string): Promise<ContainerInfo> {
  const container = await findServiceContainer(docker, project, service);
  requireRunning(container);
  return container;
}

export async function serviceAddressInProject(project: string, service: string): Promise<string> {
  return docker.containerAddress((await runningServiceInProject(project, service)).id);
}

/** Runs argv in the service's container; non-zero exit is an error carrying stderr. */
export async function execInProject(project: string, service: string, argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  const container = await runningServiceInProject(project, service);
  const result = await docker.exec(container.id, argv, options);
  if (result.exitCode !== 0) {
    const last = (result.stderr.trim() || result.stdout.trim()).split('\n').pop() ?? '';
    throw new OperationError(`${argv[0]} in ${service} exited ${result.exitCode}${last ? `: ${last}` : ''}`, {
      details: result.stderr.trim(),
    });
  }
  return result.stdout;
}

export async function runningService(ctx: StackContext, service: ServiceName): Promise<ContainerInfo> {
  return runningServiceInProject(ctx.project, service);
}

export async function serviceAddress(ctx: StackContext, service: ServiceName): Promise<string> {
  return serviceAddressInProject(ctx.project, service);
}

export async function execIn(ctx: StackContext, service: ServiceName, argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  return execInProject(ctx.project, service, argv, options);
}
