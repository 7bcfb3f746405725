// The restore's last step: every restored instance recomputes its
// fingerprint from the live stack and it is compared with the manifest's.
// Parts copied live (a hot backup) may differ and are warnings only.
import { compareFingerprints, type Difference, type RestoreTask } from '../components/component.ts';
import { MismatchError } from '../errors.ts';
import type { Reporter } from '../ui/reporter.ts';
import type { Manifest } from './manifest.ts';

export async function proveRestore(manifest: Manifest, tasks: ReadonlyMap<string, RestoreTask>, reporter: Reporter): Promise<{ differences: Difference[]; warnings: Difference[] }> {
  const differences: Difference[] = [];
  const warnings: Difference[] = [];
  await reporter.step('prove the restore against the manifest', async () => {
    for (const [id, task] of tasks) {
      const record = manifest.components[id]!;
      const found = compareFingerprints(id, record.fingerprint, await task.fingerprint());
      (record.live ? warnings : differences).push(...found);
    }
  }, () => (differences.length === 0 ? 'identical' : `${differences.length} differences`));
  for (const w of warnings) reporter.warn(`${w.component} ${w.key}: saved ${w.expected ?? 'absent'}, now ${w.actual ?? 'absent'} (copied live, so not an error)`);
  if (differences.length > 0) {
    throw new MismatchError(`restored content differs from the archive in ${differences.length} place(s)`, {
      details: differences.map((d) => `${d.component} ${d.key}: expected ${d.expected ?? 'absent'}, found ${d.actual ?? 'absent'}`).join('\n'),
    });
  }
  return { differences, warnings };
}
