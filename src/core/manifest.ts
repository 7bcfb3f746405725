// manifest.json, member 0 of every archive: what was saved, from which
// versions, how consistently, and the content fingerprint a restore must
// reproduce. Older format versions stay readable; newer ones are refused
// with a message rather than half-understood.
import { ArchiveError } from '../errors.ts';
import type { Codec } from '../archive/codec.ts';
import type { ComponentRecord, ConsistencyMode } from '../components/component.ts';

export const FORMAT_VERSION = 1;
export const MANIFEST_MEMBER = 'manifest.json';
/** A copy of the stack's .env, so a restore can plan before unpacking anything. */
export const STACK_ENV_MEMBER = 'stack.env';

export interface StoppedService {
  service: string;
  container: string;
  seconds: number;
}

export interface ManifestMember {
  name: string;
  component: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  formatVersion: number;
  tool: { name: string; version: string };
  profile: string;
  createdAt: string;
  project: string;
  stackVersion: string | null;
  codec: Codec;
  consistency: { mode: ConsistencyMode; stopped: StoppedService[]; windowSeconds: number };
  engines: Record<string, string>;
  components: Record<string, ComponentRecord>;
  members: ManifestMember[];
}

function fail(problem: string): never {
  throw new ArchiveError(`manifest.json ${problem}`, { member: MANIFEST_MEMBER, hint: 'the archive was damaged or edited; use another backup' });
}

/** Parses and checks a manifest; every field a restore relies on is checked here. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    fail('is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null) fail('is not an object');
  const m = raw as Partial<Manifest>;
  if (m.tool?.name !== 'hossadm') fail('was not written by hossadm');
  if (typeof m.formatVersion !== 'number' || !Number.isInteger(m.formatVersion)) fail('has no format version');
  if (m.formatVersion > FORMAT_VERSION) {
    throw new ArchiveError(`archive format ${m.formatVersion} is newer than this hossadm understands (${FORMAT_VERSION})`, {
      member: MANIFEST_MEMBER,
      hint: `upgrade hossadm to at least ${m.tool.version}`,
    });
  }
  if (m.formatVersion < 1) fail(`has an unknown format version ${m.formatVersion}`);
  if (!Array.isArray(m.members)) fail('lists no members');
  for (const member of m.members) {
    if (typeof member?.name !== 'string' || typeof member.size !== 'number' || !/^[0-9a-f]{64}$/.test(String(member.sha256)) || typeof member.component !== 'string') {
      fail(`has a malformed member entry ${JSON.stringify(member)}`);
    }
  }
  if (typeof m.components !== 'object' || m.components === null) fail('has no components');
  for (const [id, record] of Object.entries(m.components)) {
    if (typeof record?.fingerprint !== 'object' || typeof record.details !== 'object') fail(`has a malformed record for component ${id}`);
  }
  if (typeof m.project !== 'string' || typeof m.createdAt !== 'string' || typeof m.consistency?.mode !== 'string') fail('lacks project, date or consistency mode');
  return m as Manifest;
}

/** UTC stamp used in archive names: sortable, no characters shells or file systems mind. */
export function archiveStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
