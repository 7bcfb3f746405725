// hossadm check: gathers what the health evaluator needs from the backup
// folder. Any failure to look (configuration unreadable, folder unreadable)
// is UNKNOWN, the monitoring convention for "the check itself could not run".
import type { Profile } from '../config/profile.ts';
import { loadStackConfig, type ConfigSource } from '../config/stack-config.ts';
import { listArchives } from './catalog.ts';
import { evaluateHealth, unknownHealth, type HealthResult, type HealthThresholds } from './health.ts';
import { readVerifications } from './verification-record.ts';

export interface CheckDeps {
  profile: Profile;
  source: ConfigSource;
  now: () => Date;
}

export async function runCheck(deps: CheckDeps, thresholds: HealthThresholds): Promise<HealthResult> {
  try {
    const config = await loadStackConfig(deps.profile, deps.source);
    const [entries, verifications] = await Promise.all([listArchives(config.backupsDir, config.profile.archivePrefix), readVerifications(config.backupsDir)]);
    const newest = entries[0];
    const present = new Set(entries.map((e) => e.name));
    const last = Object.entries(verifications)
      .filter(([name]) => present.has(name))
      .sort(([, a], [, b]) => (a.at < b.at ? 1 : -1))[0];
    return evaluateHealth(
      {
        backupsDir: config.backupsDir,
        newest: newest && { name: newest.name, takenAt: newest.takenAt, bytes: newest.bytes, problem: newest.problem },
        newestVerification: newest && verifications[newest.name],
        lastVerification: last && { name: last[0], record: last[1] },
      },
      thresholds,
      deps.now(),
    );
  } catch (error) {
    return unknownHealth((error as Error).message);
  }
}
