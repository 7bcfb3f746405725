// Switching a stack's version is an edit of its .env: the version variable,
// plus every image reference that carries the old version as its tag (an
// operator may pin `CORE_IMAGE=registry/hoss-core:0.2.13`). The file is
// replaced atomically, so a crash leaves the old or the new .env, never half.
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomically } from '../../archive/atomic-file.ts';
import { updateEnvText, type EnvMap } from '../../config/env-file.ts';
import { UsageError } from '../../errors.ts';

/** What Docker allows in an image tag, so a version can become one. */
const VERSION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkVersionName(version: string): string {
  if (!VERSION_NAME.test(version)) {
    throw new UsageError(`"${version}" is not a version name (letters, digits, ".", "_" and "-", as in an image tag)`);
  }
  return version;
}

/** The .env lines that change, as KEY -> new value; pure, so the plan can show them before anything happens. */
export function versionEnvChanges(env: EnvMap, versionVariable: string, from: string, to: string): EnvMap {
  const changes: EnvMap = { [versionVariable]: to };
  const taggedWithOld = `:${from}`;
  for (const [key, value] of Object.entries(env)) {
    // An image reference: no spaces, a name before the tag.
    if (key !== versionVariable && value.endsWith(taggedWithOld) && value.length > taggedWithOld.length && !/\s/.test(value)) {
      changes[key] = `${value.slice(0, -taggedWithOld.length)}:${to}`;
    }
  }
  return changes;
}

/** Applies changes to the .env text and replaces the file atomically, keeping its permissions (it holds secrets). */
export async function rewriteEnvFile(path: string, text: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  await writeFileAtomically(path, (handle) => handle.writeFile(text, 'utf8'), { mode, overwrite: true });
}

export async function switchEnvFile(path: string, changes: EnvMap): Promise<{ before: string; after: string }> {
  const before = await readFile(path, 'utf8');
  const after = updateEnvText(before, changes);
  await rewriteEnvFile(path, after);
  return { before, after };
}
