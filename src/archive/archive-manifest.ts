// The part of manifest.json the archive layer relies on: which members the
// archive must hold, with their size and sha256. Everything else in the
// manifest belongs to the engine and is passed through untouched.

import { ArchiveError } from '../errors.ts';
import { memberNameProblem } from './member-name.ts';

export const MANIFEST_NAME = 'manifest.json';
/** Layout version this code writes; readers accept 1 up to this (core/manifest.ts says what each one means). */
export const ARCHIVE_FORMAT_VERSION = 2;
/** manifest.json is read into memory; anything bigger is not one of ours. */
export const MANIFEST_MAX_BYTES = 32 * 1024 * 1024;

export interface ManifestMemberEntry {
  name: string;
  size: number;
  sha256: string;
}

/** The fields checked here; the engine's other fields are present at run time too. */
export interface ArchiveManifest {
  formatVersion: number;
  members: ManifestMemberEntry[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function fail(problem: string, hint = 'the archive was damaged or edited; use another backup'): never {
  throw new ArchiveError(`${MANIFEST_NAME}: ${problem}`, { member: MANIFEST_NAME, hint });
}

/** Checks the fields the archive layer needs; ArchiveError naming manifest.json otherwise. */
export function checkArchiveManifest(value: unknown): ArchiveManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('is not a JSON object');
  const manifest = value as Record<string, unknown>;
  const version = manifest['formatVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) fail('has no valid formatVersion');
  if (version > ARCHIVE_FORMAT_VERSION) {
    fail(`format version ${version} is newer than this hossadm understands (${ARCHIVE_FORMAT_VERSION})`, 'use the hossadm version that wrote the archive, or a newer one');
  }
  const members = manifest['members'];
  if (!Array.isArray(members)) fail('has no members list');
  const seen = new Set<string>();
  for (const [index, entry] of members.entries()) {
    const where = `members[${index}]`;
    if (typeof entry !== 'object' || entry === null) fail(`${where} is not an object`);
    const { name, size, sha256 } = entry as Record<string, unknown>;
    if (typeof name !== 'string') fail(`${where} has no name`);
    const problem = memberNameProblem(name);
    if (problem) fail(`${where} name ${JSON.stringify(name)} ${problem}`);
    if (name === MANIFEST_NAME) fail(`${where} lists ${MANIFEST_NAME} itself`);
    if (seen.has(name)) fail(`lists ${name} twice`);
    seen.add(name);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(`${name} has no valid size`);
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) fail(`${name} has no valid sha256`);
  }
  return manifest as unknown as ArchiveManifest;
}

export function parseArchiveManifest(text: string): ArchiveManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(`is not valid JSON (${(error as Error).message})`);
  }
  return checkArchiveManifest(value);
}
