// --notify, --notify-success and --metrics-file: the flags, their settings
// (flag first, then the process environment, then the stack's .env) and the
// wrapper that reports a command's outcome through src/core/run-report.ts.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { loadStackConfig, type StackConfig } from '../config/stack-config.ts';
import { type RunFacts, type RunReportSettings, reportRun } from '../core/run-report.ts';
import { parseWebhookUrl } from '../core/webhook.ts';
import { asHossError, ExitCode, UsageError } from '../errors.ts';
import { reporterFor, type Session, toolVersion } from './options.ts';
import { setting, settingPath } from './settings.ts';

export interface ReportFlags {
  notify?: string;
  notifySuccess?: boolean;
  metricsFile?: string;
}

const reporting = new WeakSet<Command>();

export function addReportOptions(command: Command): void {
  command
    .option(
      '--notify <url>',
      'webhook for the outcome, healthchecks.io style: POST <url>/start, then <url>/fail on failure (default: $HOSSADM_NOTIFY_URL, also from the stack .env)',
    )
    .option('--notify-success', 'also POST <url> on success (default: failures only; HOSSADM_NOTIFY_SUCCESS=1)')
    .option('--metrics-file <path>', "update this Prometheus textfile (*.prom) for node_exporter's textfile collector (default: $HOSSADM_METRICS_FILE)");
  reporting.add(command);
}

const YES = new Set(['1', 'true', 'yes', 'on']);

/** The run's report settings; UsageError (before anything runs) for a URL or metrics path that cannot work. */
export function reportSettings(flags: ReportFlags, environment: Record<string, string | undefined>, config: StackConfig | undefined): RunReportSettings {
  const url = setting(flags.notify, '--notify', 'HOSSADM_NOTIFY_URL', environment, config);
  const notifyUrl = url && parseWebhookUrl(url.value);
  // The URL may hold a secret token: the message does not repeat it.
  if (url && !notifyUrl)
    throw new UsageError(`${url.from} is not an http:// or https:// URL`, { hint: 'give the full URL of the webhook, e.g. https://hc-ping.com/<uuid>' });
  const success = setting(undefined, '', 'HOSSADM_NOTIFY_SUCCESS', environment, config);
  const metrics = setting(flags.metricsFile, '--metrics-file', 'HOSSADM_METRICS_FILE', environment, config);
  const metricsFile = metrics && settingPath(metrics);
  if (metrics && metricsFile) {
    if (!metricsFile.endsWith('.prom'))
      throw new UsageError(`${metrics.from}: ${metricsFile} does not end in .prom`, { hint: "node_exporter's textfile collector reads only *.prom files" });
    if (!existsSync(dirname(metricsFile)))
      throw new UsageError(`${metrics.from}: the folder ${dirname(metricsFile)} does not exist`, {
        hint: "create it, or name node_exporter's --collector.textfile.directory",
      });
  }
  return { notifyUrl, notifySuccess: flags.notifySuccess ?? YES.has((success?.value ?? '').toLowerCase()), metricsFile };
}

/**
 * Runs a command's work; for a command that reports (addReportOptions) and
 * has a webhook or metrics file set, through reportRun. Its warnings show
 * even with --quiet: a monitoring channel that fails is worth a line in
 * cron's mail.
 */
export async function runReported(
  command: Command | undefined,
  session: Session,
  environment: Record<string, string | undefined>,
  signal: AbortSignal,
  work: () => Promise<RunFacts | undefined>,
): Promise<void> {
  if (!command || !reporting.has(command)) {
    await work();
    return;
  }
  // A stack whose .env cannot be read yet (a fresh host before a restore) still reports, from flags and environment.
  const config = await loadStackConfig(session.profile, session.source).catch(() => undefined);
  const settings = reportSettings(command.opts<ReportFlags>(), environment, config);
  if (!settings.notifyUrl && !settings.metricsFile) {
    await work();
    return;
  }
  const warnings = reporterFor({ json: session.options.json, quiet: false });
  await reportRun(
    settings,
    { command: command.name(), stack: config?.project ?? session.profile.defaultProject, profile: session.profile.name, version: toolVersion },
    { warn: (message) => warnings.warn(message), exitCodeOf: (error) => (signal.aborted ? ExitCode.interrupted : asHossError(error).exitCode) },
    work,
  );
}
