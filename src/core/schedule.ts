// `hossadm schedule --print`: the conventional ways to run backups on a
// timetable, written out for one stack: a systemd service + timer pair and
// the equivalent cron line. Pure: the caller gives the running hossadm's
// absolute paths, the stack's folder and profile, and how often.
import { UsageError } from '../errors.ts';

export interface ScheduleRequest {
  /** The Node running hossadm now (absolute), so the timer does not depend on PATH's node. */
  nodePath: string;
  /** The hossadm entry point running now (absolute). */
  script: string;
  /** The stack's config folder (absolute). */
  configDir: string;
  /** A profile name for --profile; unset when the config folder's own hossadm-profile.json is used. */
  profile: string | undefined;
  /** For names and descriptions. */
  profileName: string;
  /** --every: 15m, 1h, 6h, hourly, daily, weekly, or a systemd OnCalendar expression. */
  every: string;
  /** --at HH:MM for daily and weekly (default 03:00, outside office hours). */
  at: string | undefined;
  /** Unit name without suffix (default hossadm-backup-<profile>). */
  name: string | undefined;
}

export interface Schedule {
  unit: string;
  onCalendar: string;
  /** The cron line, or undefined when cron has no equivalent of the OnCalendar expression. */
  cron: string | undefined;
  argv: string[];
  service: { path: string; text: string };
  timer: { path: string; text: string };
  enable: string;
}

interface When {
  onCalendar: string;
  /** minute hour day-of-month month day-of-week */
  cron: string | undefined;
}

function atTime(at: string | undefined): { hour: number; minute: number } {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(at ?? '03:00');
  if (!match) throw new UsageError(`--at takes a time of day HH:MM, not "${at}"`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

const two = (n: number) => String(n).padStart(2, '0');

/** Turns --every (and --at) into an OnCalendar expression and, where one exists, the cron fields. */
export function parseEvery(every: string, at?: string): When {
  const text = every.trim();
  const interval = /^(\d+)([mh])$/.exec(text);
  if (interval) {
    const amount = Number(interval[1]);
    if (interval[2] === 'm') {
      if (at !== undefined) throw new UsageError('--at goes with --every daily or weekly');
      if (amount < 1 || amount > 59 || 60 % amount !== 0) throw new UsageError(`--every ${text}: minutes must divide an hour (1m, 5m, 10m, 15m, 20m, 30m)`);
      return { onCalendar: `*-*-* *:00/${amount}:00`, cron: `*/${amount} * * * *` };
    }
    if (amount < 1 || amount > 24 || 24 % amount !== 0) throw new UsageError(`--every ${text}: hours must divide a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)`);
    if (amount === 24) return parseEvery('daily', at);
    if (at !== undefined) throw new UsageError('--at goes with --every daily or weekly');
    return amount === 1 ? { onCalendar: 'hourly', cron: '0 * * * *' } : { onCalendar: `*-*-* 00/${amount}:00:00`, cron: `0 */${amount} * * *` };
  }
  if (text === 'hourly') return { onCalendar: 'hourly', cron: '0 * * * *' };
  if (text === 'daily' || text === '1d') {
    const { hour, minute } = atTime(at);
    return { onCalendar: `*-*-* ${two(hour)}:${two(minute)}:00`, cron: `${minute} ${hour} * * *` };
  }
  if (text === 'weekly' || text === '1w') {
    const { hour, minute } = atTime(at);
    return { onCalendar: `Sun *-*-* ${two(hour)}:${two(minute)}:00`, cron: `${minute} ${hour} * * 0` };
  }
  if (at !== undefined) throw new UsageError('--at goes with --every daily or weekly');
  // Anything else is taken as systemd's own calendar syntax; only its characters are checked here
  // (`systemd-analyze calendar '<expr>'` checks the rest).
  if (!/^[A-Za-z0-9*,.:/~ -]+$/.test(text) || text.length > 120) {
    throw new UsageError(`--every "${every}" is neither an interval (15m, 1h, daily, weekly) nor a systemd OnCalendar expression`);
  }
  const daily = /^\*-\*-\* (\d{1,2}):(\d{2})(?::00)?$/.exec(text);
  const cron = daily ? `${Number(daily[2])} ${Number(daily[1])} * * *` : undefined;
  return { onCalendar: text, cron };
}

/** One argument of ExecStart: systemd splits on spaces and expands % specifiers. */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One argument of a cron command: the shell's single quotes, and cron's % escaped. */
export function cronQuote(arg: string): string {
  const quoted = /^[A-Za-z0-9_@+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '\\%');
}

export function unitName(profileName: string, name: string | undefined): string {
  const unit = name ?? `hossadm-backup-${profileName}`;
  if (!/^[A-Za-z0-9:_.@-]{1,200}$/.test(unit))
    throw new UsageError(`--name "${unit}" is not a valid systemd unit name (letters, digits, ":", "_", ".", "@", "-")`);
  return unit;
}

export function buildSchedule(request: ScheduleRequest): Schedule {
  for (const [what, path] of [
    ['the node program', request.nodePath],
    ['the hossadm program', request.script],
    ['the config folder', request.configDir],
  ] as const) {
    if (!path.startsWith('/') || /[\n\r]/.test(path)) throw new UsageError(`${what} must be an absolute path on one line, not "${path}"`);
  }
  const when = parseEvery(request.every, request.at);
  const unit = unitName(request.profileName, request.name);
  const argv = [
    request.nodePath,
    request.script,
    ...(request.profile ? ['--profile', request.profile] : []),
    '--config-dir',
    request.configDir,
    'backup',
    '--yes',
    '--quiet',
  ];
  const service = [
    '[Unit]',
    `Description=hossadm backup of ${request.configDir} (profile ${request.profileName})`,
    'Wants=docker.service',
    'After=docker.service network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${argv.map(systemdQuote).join(' ')}`,
    // A backup stops writers for its freeze window only; never let systemd kill it halfway.
    'TimeoutStartSec=infinity',
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=hossadm backup of ${request.configDir}, ${request.every}${request.at ? ` at ${request.at}` : ''}`,
    '',
    '[Timer]',
    `OnCalendar=${when.onCalendar}`,
    // A backup missed while the host was off runs at the next boot.
    'Persistent=true',
    'RandomizedDelaySec=60',
    `Unit=${unit}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  const logFile = `/var/log/${unit}.log`;
  return {
    unit,
    onCalendar: when.onCalendar,
    cron: when.cron ? `${when.cron} ${argv.map(cronQuote).join(' ')} >>${logFile} 2>&1` : undefined,
    argv,
    service: { path: `/etc/systemd/system/${unit}.service`, text: service },
    timer: { path: `/etc/systemd/system/${unit}.timer`, text: timer },
    enable: `systemctl daemon-reload && systemctl enable --now ${unit}.timer`,
  };
}

/** What `schedule --print` shows: both files with where they go, how to enable them, and the cron line. */
export function renderSchedule(schedule: Schedule): string {
  return [
    `# ${schedule.service.path}`,
    schedule.service.text,
    `# ${schedule.timer.path}`,
    schedule.timer.text,
    `# enable it: ${schedule.enable}`,
    `# check it:  systemctl list-timers ${schedule.unit}.timer; journalctl -u ${schedule.unit}.service`,
    '',
    '# or, with cron instead of the timer (crontab -e as root):',
    schedule.cron ?? `# (cron has no equivalent of OnCalendar=${schedule.onCalendar}; use the timer)`,
  ].join('\n');
}
