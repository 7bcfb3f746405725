// manifest.json, member 0 of every archive: what was saved, from which
// versions, how consistently, and the content fingerprint a restore must
// reproduce. Older format versions stay readable; newer ones are refused
// with a message rather than half-understood.
import { ARCHIVE_FORMAT_VERSION, checkArchiveManifest } from '../archive/archive-manifest.ts';
import { ArchiveError } from '../errors.ts';
import type { Codec } from '../archive/codec.ts';
import type { ComponentRecord, ConsistencyMode, FreezeMode } from '../components/component.ts';

/**
 * 2: members are named <instance id>/..., each instance's record carries its
 * kind and engine versions, `engines` keeps the stack-wide ones (docker),
 * `omitted` lists instances left out on purpose. 1: fixed component names
 * (config.tar, postgres/, opensearch/, volumes/) and one engines table.
 */
export const FORMAT_VERSION = ARCHIVE_FORMAT_VERSION;
export const MANIFEST_MEMBER = 'manifest.json';
/** A copy of the stack's .env, so a restore can plan before unpacking anything. */
export const STACK_ENV_MEMBER = 'stack.env';

export interface StoppedService {
  service: string;
  container: string;
  seconds: number;
}

/** One freeze window of a cold backup: the services it stopped, what it copied, how long it lasted. */
export interface FreezeWindow {
  services: string[];
  copied: string[];
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
  /**
   * `stopped`: each stopped writer and how long it was down; `windowSeconds`:
   * the time inside windows, added up. Cold backups since per-service
   * freezing also say how they froze and list their windows (absent in older archives).
   */
  consistency: { mode: ConsistencyMode; stopped: StoppedService[]; windowSeconds: number; freeze?: FreezeMode; windows?: FreezeWindow[] };
  engines: Record<string, string>;
  components: Record<string, ComponentRecord>;
  /** Instances of the profile this backup left out on purpose (backup --without). */
  omitted?: string[];
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
  // The archive layer's check of the version and the member list (names, sizes, sums), then the engine's fields.
  checkArchiveManifest(raw);
  for (const member of m.members!) {
    if (typeof member.component !== 'string') fail(`has a malformed member entry ${JSON.stringify(member)}`);
  }
  if (typeof m.components !== 'object' || m.components === null) fail('has no components');
  for (const [id, record] of Object.entries(m.components)) {
    if (typeof record?.fingerprint !== 'object' || typeof record.details !== 'object') fail(`has a malformed record for component ${id}`);
  }
  if (typeof m.project !== 'string' || typeof m.createdAt !== 'string' || typeof m.consistency?.mode !== 'string') fail('lacks project, date or consistency mode');
  if (m.omitted !== undefined && (!Array.isArray(m.omitted) || !m.omitted.every((id) => typeof id === 'string'))) fail('has a malformed list of omitted components');
  for (const member of m.members!) {
    if (member.name === STACK_ENV_MEMBER) continue;
    if (!(member.component in m.components)) fail(`names member ${member.name} of component ${member.component}, which has no record`);
    // One member-name rule from format 2 on: an instance's members live under its id.
    if (m.formatVersion >= 2 && !member.name.startsWith(`${member.component}/`)) fail(`names member ${member.name} outside its component's folder ${member.component}/`);
  }
  if (m.formatVersion === 1) {
    // Format 1 kept one table of engine versions; each record gets it, so a kind reads its versions one way.
    for (const record of Object.values(m.components)) record.versions = { ...(m.engines ?? {}) };
  } else {
    for (const [id, record] of Object.entries(m.components)) {
      if (typeof record.kind !== 'string' || typeof record.versions !== 'object' || record.versions === null) fail(`has no kind or versions for component ${id}`);
    }
  }
  return m as Manifest;
}

/** UTC stamp used in archive names: sortable, no characters shells or file systems mind. */
export function archiveStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
