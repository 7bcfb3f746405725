// The file a restore keeps in the config folder from its first change until
// everything is loaded. It names the kind of restore, the archive, the pid
// and the start. A rerun of the restore resumes from it; a backup refuses to
// save a stack that a restore left half-done.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const unfinishedRestoreMarker = (configDir: string) => join(configDir, '.hossadm-restore-unfinished');

/** What the marker says, or undefined when no restore is unfinished. */
export function unfinishedRestore(configDir: string): Promise<string | undefined> {
  return readFile(unfinishedRestoreMarker(configDir), 'utf8').then((text) => text.trim(), () => undefined);
}
