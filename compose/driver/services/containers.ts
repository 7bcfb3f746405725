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

/** One stack's typed lookups: its context names the project, S its services. */
export interface ProjectServices<C extends { project: string }, S extends string> {
  running(ctx: C, service: S): Promise<ContainerInfo>;
  address(ctx: C, service: S): Promise<string>;
  exec(ctx: C, service: S, argv: readonly string[], options?: ExecOptions): Promise<string>;
}

export function projectServices<C extends { project: string }, S extends string>(): ProjectServices<C, S> {
  return {
    running: (ctx, service) => runningServiceInProject(ctx.project, service),
    address: (ctx, service) => serviceAddressInProject(ctx.project, service),
    exec: (ctx, service, argv, options = {}) => execInProject(ctx.project, service, argv, options),
  };
}

export const { running: runningService, address: serviceAddress, exec: execIn } = projectServices<StackContext, ServiceName>();
