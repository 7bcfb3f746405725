// Starting a stack on a fresh host after its files and volumes are back:
// with the operator's own command when .env names one (e.g. `make up
// DETACH=true`), otherwise with Compose (v2 plugin or v1 binary) on the
// compose files .env lists. Then wait until every container runs and is
// healthy where it has a health check.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StackConfig } from '../config/stack-config.ts';
import { projectContainers } from '../docker/compose-services.ts';
import type { DockerClient } from '../docker/types.ts';
import { OperationError, PreflightError, StackError } from '../errors.ts';
import { runCompose } from '../docker/compose-cli.ts';
import type { Reporter } from '../ui/reporter.ts';

const run = promisify(execFile);

/** Starts the stack, or only the named services; an operator's own start command always starts all of it. */
export type StackStarter = (config: StackConfig, services?: readonly string[]) => Promise<void>;

function stackEnv(config: StackConfig): NodeJS.ProcessEnv {
  return { ...process.env, [config.profile.configDirVariable]: config.configDir };
}

/** The operator's own start command, split into argv: it is run without a shell. */
export function upCommandArgv(config: StackConfig): string[] | undefined {
  return config.compose.upCommand ? config.compose.upCommand.split(/\s+/).filter(Boolean) : undefined;
}

export async function startStack(config: StackConfig, services: readonly string[] = []): Promise<void> {
  const own = upCommandArgv(config);
  if (own) {
    try {
      await run(own[0]!, own.slice(1), { cwd: config.compose.workdir ?? config.configDir, env: stackEnv(config), maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new OperationError(`starting the stack with "${own.join(' ')}" failed`, { details: stderr.trim().split('\n').slice(-15).join('\n'), cause: error });
    }
    return;
  }
  if (config.compose.files.length === 0) {
    throw new PreflightError('the archived .env names no compose files (COMPOSE_FILE) and no HOSSADM_UP_COMMAND', {
      hint: 'add COMPOSE_FILE=<paths> or HOSSADM_UP_COMMAND="make up DETACH=true" to .env',
    });
  }
  await runCompose({ project: config.project, files: config.compose.files, envFile: config.envPath, env: stackEnv(config) }, ['up', '-d', ...services], { echo: () => undefined });
}

export interface WaitOptions {
  /**
   * How long a container may report "unhealthy" before the wait fails. A
   * service is unhealthy only after its own retries, but one that starts
   * before its database can pass through it; unset: wait to the deadline.
   */
  unhealthyGraceMs?: number;
}

export async function waitForServices(docker: DockerClient, config: StackConfig, reporter: Reporter, timeoutMs = 10 * 60_000, options: WaitOptions = {}): Promise<void> {
  await reporter.step('wait for every service', async (handle) => {
    const deadline = Date.now() + timeoutMs;
    const unhealthySince = new Map<string, number>();
    for (;;) {
      const containers = await projectContainers(docker, config.project);
      const waiting: string[] = [];
      for (const c of containers) {
        if (c.state === 'restarting') {
          const info = await docker.inspectContainer(c.id);
          if (info.RestartCount >= 3) {
            throw new StackError(`service ${c.service} keeps restarting (${info.RestartCount} times)`, { hint: `see docker logs ${c.name}` });
          }
        }
        if (c.state !== 'running') {
          if (c.state === 'exited' || c.state === 'dead') {
            const info = await docker.inspectContainer(c.id);
            if (info.RestartCount === 0 && info.HostConfig.RestartPolicy?.Name !== 'always' && info.HostConfig.RestartPolicy?.Name !== 'unless-stopped') {
              throw new StackError(`service ${c.service} exited with code ${info.State.ExitCode} after start`, { hint: `see docker logs ${c.name}` });
            }
          }
          waiting.push(c.service);
          continue;
        }
        const info = await docker.inspectContainer(c.id);
        const health = info.State.Health?.Status;
        if (health && health !== 'healthy') waiting.push(`${c.service} (${health})`);
        if (health !== 'unhealthy') unhealthySince.delete(c.id);
        else if (options.unhealthyGraceMs !== undefined) {
          const since = unhealthySince.get(c.id) ?? Date.now();
          unhealthySince.set(c.id, since);
          if (Date.now() - since >= options.unhealthyGraceMs) {
            const last = info.State.Health?.Log?.at(-1)?.Output?.trim();
            throw new StackError(`service ${c.service} is unhealthy (its health check keeps failing)`, { hint: `see docker logs ${c.name}`, ...(last ? { details: last } : {}) });
          }
        }
      }
      if (containers.length > 0 && waiting.length === 0) return;
      handle.update(`waiting for ${waiting.join(', ') || 'containers'}`);
      if (Date.now() > deadline) throw new StackError(`services not ready after ${timeoutMs / 60_000} minutes: ${waiting.join(', ')}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
}
