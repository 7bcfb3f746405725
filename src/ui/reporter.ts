// Progress goes to stderr so stdout carries only results (text or --json).
// Components report through this interface and never know whether a spinner,
// plain lines or nothing is shown.
import ora from 'ora';

export interface StepHandle {
  /** Replaces the detail shown after the step's label (bytes so far, what is awaited). */
  update(detail: string): void;
}

export interface Reporter {
  /** Runs one step, showing it as running, then done (with the summary returned by `done`) or failed. */
  step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

function seconds(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}

/** ora on a terminal; one line per step when stderr is a file or a pipe. */
export class ConsoleReporter implements Reporter {
  private readonly stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
  }

  async step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T> {
    const startedAt = Date.now();
    const interactive = Boolean(this.stream.isTTY);
    const spinner = interactive ? ora({ text: label, stream: this.stream }).start() : undefined;
    if (!interactive) this.stream.write(`… ${label}\n`);
    const handle: StepHandle = {
      update: (detail) => {
        if (spinner) spinner.text = `${label}: ${detail}`;
      },
    };
    try {
      const result = await work(handle);
      const summary = done ? `: ${done(result)}` : '';
      const line = `${label}${summary} (${seconds(startedAt)})`;
      if (spinner) spinner.succeed(line);
      else this.stream.write(`✔ ${line}\n`);
      return result;
    } catch (error) {
      const line = `${label} failed after ${seconds(startedAt)}`;
      if (spinner) spinner.fail(line);
      else this.stream.write(`✖ ${line}\n`);
      throw error;
    }
  }

  info(message: string): void {
    this.stream.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stream.write(`⚠ ${message}\n`);
  }
}

/** For --quiet and for tests: runs the work, shows nothing, remembers the lines. */
export class SilentReporter implements Reporter {
  readonly lines: string[] = [];

  async step<T>(label: string, work: (handle: StepHandle) => Promise<T>, done?: (result: T) => string): Promise<T> {
    const result = await work({ update: () => undefined });
    this.lines.push(done ? `${label}: ${done(result)}` : label);
    return result;
  }

  info(message: string): void {
    this.lines.push(message);
  }

  warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
}
