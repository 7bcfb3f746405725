// The stack as Compose resolves it for a given set of variables: `compose
// config` prints every service with ${VARS} substituted (YAML; Compose v1
// has no JSON output). Rendering twice, with the running and the target
// version, shows exactly which services an upgrade changes.
import { parse } from 'yaml';
import { OperationError } from '../errors.ts';
import { runCompose, type ComposeProject } from './compose-cli.ts';

export type RenderedServices = Record<string, Record<string, unknown>>;

export function servicesOf(yamlText: string): RenderedServices {
  let document: unknown;
  try {
    document = parse(yamlText);
  } catch (error) {
    throw new OperationError(`cannot read the configuration Compose printed: ${(error as Error).message}`, { cause: error });
  }
  const services = (document as { services?: unknown } | null)?.services;
  if (services === null || typeof services !== 'object' || Array.isArray(services)) {
    throw new OperationError('the configuration Compose printed has no services');
  }
  return services as RenderedServices;
}

export async function renderServices(project: ComposeProject): Promise<RenderedServices> {
  return servicesOf(await runCompose(project, ['config'], { echo: () => undefined }));
}
