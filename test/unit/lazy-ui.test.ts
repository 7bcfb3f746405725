// The spinner and prompt libraries load only when a terminal needs them: a
// cron run or a script (stderr a file, no questions) never imports them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `body` in a fresh Node that records every import of ora or inquirer; returns those specifiers. */
async function uiImports(body: string): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { if (/^(ora|inquirer)$/.test(specifier)) seen.push(specifier); return next(specifier, context); } });
    const { buildProgram } = await import('./src/cli/program.ts');
    const { ConsoleReporter } = await import('./src/ui/reporter.ts');
    const { InquirerPrompter } = await import('./src/ui/prompter.ts');
    buildProgram({ environment: {}, stdinIsTTY: false, signal: new AbortController().signal, write: () => {} });
    const stream = { isTTY: false, write: () => true, on: () => stream, once: () => stream, removeListener: () => stream, columns: 80 };
    ${body}
    process.stdout.write(JSON.stringify(seen));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
  return JSON.parse(stdout) as string[];
}

test('a run without a terminal loads neither ora nor inquirer, even after a step and a prompter is made', async () => {
  assert.deepEqual(await uiImports(`new InquirerPrompter(); await new ConsoleReporter(stream).step('work', async () => 1);`), []);
});

test('a terminal step loads ora (the hook sees it, so the test above can fail)', async () => {
  assert.deepEqual(await uiImports(`stream.isTTY = true; await new ConsoleReporter(stream).step('work', async () => 1).catch(() => {});`), ['ora']);
});
