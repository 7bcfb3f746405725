// The command line: commander parses into typed options and each command
// calls one core function. Nothing here touches process: main.ts does.
import { Command, CommanderError } from 'commander';
import { exitCodeMeaning } from '../errors.ts';
import { registerBackup } from './backup-command.ts';
import { registerCheck } from './check-command.ts';
import { registerCopy } from './copy-command.ts';
import { registerInit } from './init-command.ts';
import { registerList } from './list-command.ts';
import { openSession, reporterFor, toolVersion, type GlobalOptions } from './options.ts';
import { registerPrune } from './prune-command.ts';
import { addReportOptions, runReported } from './report-options.ts';
import { registerRestore } from './restore-command.ts';
import { registerSchedule, type RunningProgram } from './schedule-command.ts';
import { registerVerify } from './verify-command.ts';
import { registerUpgrade } from './upgrade-command.ts';
import type { BareRunner, CommandOutput, CommandRunner } from './runner.ts';

export interface ProgramIO {
  environment: Record<string, string | undefined>;
  stdinIsTTY: boolean;
  signal: AbortSignal;
  write: (text: string) => void;
  /** The Node and entry point running now (schedule writes them into units). */
  running?: RunningProgram;
}

/** The profile used when neither --profile nor HOSSADM_PROFILE names one: the first stack hossadm served. */
const DEFAULT_PROFILE = 'hoss';

export function buildProgram(io: ProgramIO): Command {
  const program = new Command();
  program
    .name('hossadm')
    .description('Consistent backup and exact restore of a Docker Compose stack described by a profile')
    .version(toolVersion, '-V, --version')
    .option(
      '--config-dir <dir>',
      "the stack's configuration folder (default: the profile's variable, e.g. $HOSS_DIR, or its default folder); its hossadm-profile.json, when present, is the profile",
    )
    .option(
      '--profile <name>',
      `stack profile, one of templates/profiles/*.json (default: the config folder's hossadm-profile.json, else $HOSSADM_PROFILE or ${DEFAULT_PROFILE})`,
    )
    .option('--json', 'print the result as JSON on stdout, progress as JSON lines on stderr', false)
    .option('-q, --quiet', 'no progress on stderr', false)
    .option('-y, --yes', 'answer yes to every confirmation (for scripts)', false)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit codes:\n${Object.entries(exitCodeMeaning)
        .map(([code, meaning]) => `  ${code.padStart(3)}  ${meaning}`)
        .join('\n')}`,
    );

  // The command commander is about to run: reporting wrappers need its name and options.
  let acting: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    acting = actionCommand;
  });
  const print = (output: CommandOutput) => io.write(program.opts<GlobalOptions>().json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
  const run: CommandRunner = async (work) => {
    const options = program.opts<GlobalOptions>();
    // Named on the command line or by HOSSADM_PROFILE: that profile; else the config folder's own file may stand in for the default.
    const named = program.getOptionValueSource('profile') === 'cli' || Boolean(io.environment.HOSSADM_PROFILE);
    options.profile ??= io.environment.HOSSADM_PROFILE || DEFAULT_PROFILE;
    const session = await openSession(options, io.environment, io.stdinIsTTY, named);
    await runReported(acting, session, io.environment, io.signal, async () => {
      const output = await work(session, io.signal);
      print(output);
      return output.facts;
    });
  };
  const bare: BareRunner = async (work) => {
    const options = program.opts<GlobalOptions>();
    print(await work({ options, environment: io.environment, reporter: reporterFor(options), signal: io.signal }));
  };
  registerBackup(program, run);
  registerRestore(program, run);
  registerList(program, run);
  registerVerify(program, run);
  registerPrune(program, run);
  registerCheck(program, run);
  registerCopy(program, run);
  registerUpgrade(program, run);
  registerInit(program, bare);
  registerSchedule(program, run, io.running);
  // The commands cron runs report their outcome to a webhook and a metrics file.
  for (const command of program.commands) if (['backup', 'restore', 'verify', 'prune'].includes(command.name())) addReportOptions(command);
  return program;
}

export { CommanderError };
