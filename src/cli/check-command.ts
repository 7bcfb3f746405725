// hossadm check --max-age 26h [--warn-age 20h]: one monitoring-plugin line on
// stdout and the plugin exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN),
// for cron mail, Nagios/Icinga/Checkmk or a Zabbix item.
import type { Command } from 'commander';
import { runCheck } from '../core/check.ts';
import { unknownHealth, type HealthResult } from '../core/health.ts';
import { parseDuration } from '../core/human-units.ts';
import { checkRemote } from '../core/offsite-catalog.ts';
import { MonitoringStatus } from '../errors.ts';
import type { CommandRunner } from './runner.ts';
import { addFromOption, withTarget } from './target-options.ts';

/** A bad threshold is the check failing to run: UNKNOWN, as monitoring expects, not the usage code 2 (CRITICAL). */
function thresholds(maxAge: string, warnAge: string | undefined): { maxAgeSeconds: number; warnAgeSeconds: number | undefined } | string {
  const maxAgeSeconds = parseDuration(maxAge);
  if (maxAgeSeconds === undefined) return `--max-age takes a duration such as 26h, not "${maxAge}"`;
  const warnAgeSeconds = warnAge === undefined ? undefined : parseDuration(warnAge);
  if (warnAge !== undefined && warnAgeSeconds === undefined) return `--warn-age takes a duration such as 20h, not "${warnAge}"`;
  if (warnAgeSeconds !== undefined && warnAgeSeconds >= maxAgeSeconds) return '--warn-age must be shorter than --max-age';
  return { maxAgeSeconds, warnAgeSeconds };
}

export function registerCheck(program: Command, run: CommandRunner): void {
  addFromOption(
    program
      .command('check')
      .description('monitoring check of the newest backup: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (plugin convention)')
      .option('--max-age <duration>', 'CRITICAL when the newest backup is older (e.g. 26h)', '26h')
      .option('--warn-age <duration>', 'WARNING when the newest backup is older (optional, shorter than --max-age)'),
  ).action((opts: { maxAge: string; warnAge?: string; from?: string }) => {
    let verdict: HealthResult | undefined;
    return run(async (session) => {
      const limits = thresholds(opts.maxAge, opts.warnAge);
      verdict =
        typeof limits === 'string'
          ? unknownHealth(limits)
          : opts.from
            ? await withTarget(session, opts.from, (target) => checkRemote(target, session.profile.archivePrefix, limits, new Date())).catch((error: Error) =>
                unknownHealth(error.message),
              )
            : await runCheck({ profile: session.profile, source: session.source, now: () => new Date() }, limits);
      return { json: verdict, text: verdict.line };
    }).then(() => {
      if (verdict && verdict.exitCode !== 0) throw new MonitoringStatus(verdict.exitCode, verdict.line);
    });
  });
}
