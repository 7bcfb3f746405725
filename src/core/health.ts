// What `hossadm check` concludes from the backup folder, in the form
// monitoring systems (Nagios, Icinga, Zabbix, Checkmk) read from a plugin:
// one status line, performance data after "|", and the exit codes 0 OK,
// 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Pure: the facts come in, the verdict goes out.
import { formatAge, formatBytes } from './human-units.ts';
import type { VerificationRecord } from './verification-record.ts';

export type HealthStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export const HEALTH_EXIT_CODE: Record<HealthStatus, 0 | 1 | 2 | 3> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

export interface HealthThresholds {
  /** Older than this and the newest backup is CRITICAL. */
  maxAgeSeconds: number;
  /** Older than this (and not older than the maximum) it is a WARNING. */
  warnAgeSeconds?: number | undefined;
}

export interface ArchiveFacts {
  name: string;
  takenAt: Date;
  bytes: number;
  /** Why its manifest cannot be read, when it cannot. */
  problem?: string | undefined;
}

export interface HealthFacts {
  backupsDir: string;
  /** The newest archive in the folder, by the date in its name. */
  newest: ArchiveFacts | undefined;
  /** The newest archive's last verification, if it has one. */
  newestVerification: VerificationRecord | undefined;
  /** The most recent verification of any archive still in the folder. */
  lastVerification: { name: string; record: VerificationRecord } | undefined;
}

export interface HealthResult {
  status: HealthStatus;
  exitCode: 0 | 1 | 2 | 3;
  /** Why, in words: every problem found, worst first. */
  summary: string;
  perfdata: string;
  /** The whole plugin line: "HOSSADM OK - ... | age=...". */
  line: string;
}

const RANK: Record<HealthStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

function result(status: HealthStatus, summary: string, perfdata: string): HealthResult {
  return { status, exitCode: HEALTH_EXIT_CODE[status], summary, perfdata, line: `HOSSADM ${status} - ${summary}${perfdata ? ` | ${perfdata}` : ''}` };
}

/** The check could not look (configuration unreadable, bad option): UNKNOWN, not a verdict on the backups. */
export function unknownHealth(reason: string): HealthResult {
  return result('UNKNOWN', reason, '');
}

export function evaluateHealth(facts: HealthFacts, thresholds: HealthThresholds, now: Date): HealthResult {
  const { newest } = facts;
  if (!newest) return result('CRITICAL', `no backup in ${facts.backupsDir}`, '');
  const age = Math.max(0, Math.round((now.getTime() - newest.takenAt.getTime()) / 1000));
  const warn = thresholds.warnAgeSeconds;
  const perfdata = `age=${age}s;${warn ?? ''};${thresholds.maxAgeSeconds};0 size=${newest.bytes}B;;;0`;
  const findings: { status: HealthStatus; text: string }[] = [];

  if (age > thresholds.maxAgeSeconds) findings.push({ status: 'CRITICAL', text: `older than ${formatAge(thresholds.maxAgeSeconds)}` });
  else if (warn !== undefined && age > warn) findings.push({ status: 'WARNING', text: `older than ${formatAge(warn)}` });
  if (newest.problem) findings.push({ status: 'CRITICAL', text: `it is unreadable: ${newest.problem}` });
  if (facts.newestVerification && !facts.newestVerification.ok) {
    findings.push({ status: 'CRITICAL', text: `its ${facts.newestVerification.mode} verification failed on ${facts.newestVerification.at}: ${facts.newestVerification.problem ?? 'no reason recorded'}` });
  }
  const last = facts.lastVerification;
  if (last && !last.record.ok && last.name !== newest.name) {
    findings.push({ status: 'CRITICAL', text: `the last verification (${last.name}, ${last.record.at}) failed: ${last.record.problem ?? 'no reason recorded'}` });
  }

  const status = findings.reduce<HealthStatus>((worst, f) => (RANK[f.status] > RANK[worst] ? f.status : worst), 'OK');
  const ordered = [...findings].sort((a, b) => RANK[b.status] - RANK[a.status]).map((f) => f.text);
  const head = `last backup ${newest.name} ${formatAge(age)} ago, ${formatBytes(newest.bytes)}`;
  return result(status, [head, ...ordered].join('; '), perfdata);
}
