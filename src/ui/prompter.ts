// Every question hossadm asks goes through this interface, so that each one
// has a non-interactive answer (--yes) and scripts never hang on a prompt.
import { DeclinedError, InterruptedError } from '../errors.ts';

export interface Choice<T> {
  name: string;
  value: T;
}

export interface Prompter {
  confirm(message: string, defaultAnswer: boolean): Promise<boolean>;
  select<T>(message: string, choices: readonly Choice<T>[]): Promise<T>;
}

/** Ctrl-C at a prompt is an interruption, not a crash. */
function isPromptExit(error: unknown): boolean {
  return error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError');
}

/** inquirer is loaded at the first question, so runs that ask none (most) never load it. */
async function promptModule() {
  const { createPromptModule } = await import('inquirer');
  // Questions go to stderr like all progress, so stdout stays machine-readable.
  return createPromptModule({ output: process.stderr });
}

export class InquirerPrompter implements Prompter {
  async confirm(message: string, defaultAnswer: boolean): Promise<boolean> {
    try {
      const prompt = await promptModule();
      const { answer } = await prompt<{ answer: boolean }>([{ type: 'confirm', name: 'answer', message, default: defaultAnswer }]);
      return answer;
    } catch (error) {
      if (isPromptExit(error)) throw new InterruptedError('interrupted at a prompt; nothing was changed');
      throw error;
    }
  }

  async select<T>(message: string, choices: readonly Choice<T>[]): Promise<T> {
    try {
      const prompt = await promptModule();
      const { answer } = await prompt<{ answer: unknown }>([{ type: 'select', name: 'answer', message, choices: [...choices] }]);
      return answer as T;
    } catch (error) {
      if (isPromptExit(error)) throw new InterruptedError('interrupted at a prompt; nothing was changed');
      throw error;
    }
  }
}

/** --yes: every confirmation is accepted; a choice has no safe default, so it must come from an argument. */
export class AssumeYesPrompter implements Prompter {
  async confirm(): Promise<boolean> {
    return true;
  }

  async select<T>(message: string): Promise<T> {
    throw new DeclinedError(`"${message}" needs an answer that --yes cannot give`, { hint: 'name it on the command line' });
  }
}

/** No terminal and no --yes: refuse rather than guess. */
export class NoTerminalPrompter implements Prompter {
  async confirm(message: string): Promise<boolean> {
    throw new DeclinedError(`"${message}" needs confirmation and there is no terminal to ask`, { hint: 'run it in a terminal, or add --yes' });
  }

  async select<T>(message: string): Promise<T> {
    throw new DeclinedError(`"${message}" needs a choice and there is no terminal to ask`, { hint: 'name it on the command line' });
  }
}
