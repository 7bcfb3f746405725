// hossadm schedule --print [--every 1h|daily|weekly|<OnCalendar>] [--at HH:MM]:
// a systemd service + timer pair and the equivalent cron line that run this
// hossadm's backup of this stack. It prints only: installing units is the
// operator's call.
import type { Command } from 'commander';
import { resolveConfigDir } from '../config/stack-config.ts';
import { buildSchedule, renderSchedule } from '../core/schedule.ts';
import { UsageError } from '../errors.ts';
import type { CommandRunner } from './runner.ts';

export interface RunningProgram {
  /** The Node running hossadm (absolute). */
  execPath: string;
  /** The hossadm entry point as it was started (absolute). */
  scriptPath: string;
}

export function registerSchedule(program: Command, run: CommandRunner, running: RunningProgram | undefined): void {
  program
    .command('schedule')
    .description('print a systemd service + timer pair and the equivalent cron line that back this stack up on a timetable')
    .option('--print', 'print them (the only mode: nothing is installed)', false)
    .option('--every <when>', '15m, 1h, 6h, hourly, daily, weekly, or a systemd OnCalendar expression', 'daily')
    .option('--at <HH:MM>', 'time of day for daily and weekly (default 03:00)')
    .option('--name <unit>', 'unit name (default hossadm-backup-<profile>)')
    .action((opts: { print: boolean; every: string; at?: string; name?: string }) =>
      run(async (session) => {
        if (!running) throw new UsageError('schedule cannot tell where this hossadm is installed');
        if (!opts.print)
          throw new UsageError('schedule only prints the units and the cron line: add --print', { hint: 'hossadm schedule --print --every daily' });
        const schedule = buildSchedule({
          nodePath: running.execPath,
          script: running.scriptPath,
          configDir: resolveConfigDir(session.profile, session.source),
          profile: session.profileOrigin.kind === 'named' ? session.profileOrigin.name : undefined,
          profileName: session.profile.name,
          every: opts.every,
          at: opts.at,
          name: opts.name,
        });
        return { json: schedule, text: renderSchedule(schedule) };
      }),
    );
}
