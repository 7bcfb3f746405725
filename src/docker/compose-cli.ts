// Runs Docker Compose as a child process. Compose has no API of its own, so
// this is the one place that shells out; it accepts v2 (`docker compose`)
// and v1 (`docker-compose`), and always names the project, the files and the
// env file explicitly so nothing depends on the working folder.
import { spawn, spawnSync } from 'node:child_process';
import { EngineError, OperationError } from '../errors.ts';

export interface ComposeProgram {
  command: string;
  /** Arguments that come before Compose's own (["compose"] for v2). */
  prefix: string[];
  version: 'v1' | 'v2';
}

function answers(command: string, args: string[]): boolean {
  const probe = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  return probe.status === 0;
}

let cached: ComposeProgram | undefined;

/** v2 when the docker CLI has the plugin, else v1; a one-line error when neither exists. */
export function findCompose(): ComposeProgram {
  if (cached) return cached;
  if (answers('docker', ['compose', 'version'])) cached = { command: 'docker', prefix: ['compose'], version: 'v2' };
  else if (answers('docker-compose', ['version'])) cached = { command: 'docker-compose', prefix: [], version: 'v1' };
  else {
    throw new EngineError('neither "docker compose" (v2) nor "docker-compose" (v1) is installed', {
      hint: 'install the Compose plugin or docker-compose',
    });
  }
  return cached;
}

export interface ComposeProject {
  project: string;
  files: readonly string[];
  envFile: string;
  /** The child's whole environment; Compose substitutes ${VARS} from it before the env file. */
  env: NodeJS.ProcessEnv;
}

export interface ComposeRunOptions {
  /** Where Compose's progress goes (it writes progress on stderr); default: our stderr. */
  echo?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** Runs one Compose command; resolves on exit 0, else throws with the tail of its output. */
export async function runCompose(project: ComposeProject, args: readonly string[], options: ComposeRunOptions = {}): Promise<string> {
  const program = findCompose();
  const argv = [
    ...program.prefix,
    '--project-name', project.project,
    '--env-file', project.envFile,
    ...project.files.flatMap((f) => ['--file', f]),
    ...args,
  ];
  const echo = options.echo ?? ((chunk: Buffer) => process.stderr.write(chunk));
  return new Promise((resolve, reject) => {
    const child = spawn(program.command, argv, {
      env: project.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      echo(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', (error) => reject(new OperationError(`cannot run ${program.command}: ${error.message}`, { cause: error })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const lastLine = tail.trim().split('\n').filter(Boolean).pop() ?? '';
      reject(
        new OperationError(`${program.command} ${[...program.prefix, args[0]].join(' ')} failed (${signal ?? `exit ${code}`})${lastLine ? `: ${lastLine}` : ''}`, {
          details: tail.trim(),
        }),
      );
    });
  });
}
