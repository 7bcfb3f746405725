// Files compared byte for byte: named volumes and bind-mounted state
// folders by a helper's listing (type, owner, mode, size, content hash,
// link target of every entry, as the engine sees them), and config files by
// their content. Nothing rewrites these on start, so any difference is a
// real one. A database engine's own data files (DB_ROOT, the search data
// folder) are not here: they are compared logically through the engine.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { digestTree, listTree, type TreeEntry } from '../../../src/docker/tree-digest.ts';
import type { StackContext } from '../context.ts';
import { docker, helperImage, RUN_ID } from '../runtime.ts';
import { byCodeUnit } from './canonical.ts';

export interface TreeFingerprint {
  entries: number;
  sha256: string;
  /** Small trees only: one line per entry, so a difference names the file. */
  tree?: Record<string, string>;
}

const LISTED_UP_TO = 100;

function describe(e: TreeEntry): string {
  const owner = `${e.uid}:${e.gid}`;
  const mode = e.mode.toString(8).padStart(4, '0');
  if (e.type === 'file') return `file ${owner} ${mode} ${e.size} ${e.sha256}${e.nlink && e.nlink > 1 ? ` links=${e.nlink}` : ''}`;
  if (e.type === 'symlink') return `symlink ${owner} ${mode} -> ${e.target}`;
  return `${e.type} ${owner} ${mode}`;
}

/** The fingerprint of a listing already made (a caller that also needs the entries lists once). */
export function treeFingerprint(entries: readonly TreeEntry[]): TreeFingerprint {
  const result: TreeFingerprint = { entries: entries.length, sha256: digestTree(entries) };
  if (entries.length <= LISTED_UP_TO) result.tree = Object.fromEntries(entries.map((e) => [e.path, describe(e)]));
  return result;
}

export async function fingerprintTree(source: string): Promise<TreeFingerprint> {
  return treeFingerprint(await listTree(docker, { image: await helperImage(), source, runId: RUN_ID }));
}

/** Volumes whose files only their engine understands; they are compared logically instead. */
export const ENGINE_VOLUMES: Record<string, string> = {
  'ldap-vol0': 'ldap',
  'ldap-vol1': 'ldap',
  'rabbitmq-data': 'rabbitmq',
};

export async function fingerprintVolumes(ctx: StackContext, names: readonly string[]): Promise<Record<string, TreeFingerprint>> {
  const result: Record<string, TreeFingerprint> = {};
  for (const name of names) {
    const dockerName = `${ctx.project}_${name}`;
    if (!(await docker.inspectVolume(dockerName))) continue;
    result[name] = await fingerprintTree(dockerName);
  }
  return result;
}

export interface EngineVolumeFingerprint {
  /** Which section holds the logical comparison of this volume's content. */
  content: string;
  /** The volume's root folder: its owner and mode decide whether the engine can use it at all. */
  root: string;
  /** Every uid:gid found in the volume; a restore that loses ownership changes this. */
  owners: string[];
}

/**
 * An engine's volume: no content hashes (the engine rewrites its files on
 * start, and the data file of LDAP is a 1 GiB sparse map), only what stays
 * fixed across restarts: the root folder and the set of owners.
 */
export async function fingerprintEngineVolumes(ctx: StackContext): Promise<Record<string, EngineVolumeFingerprint>> {
  const result: Record<string, EngineVolumeFingerprint> = {};
  for (const [name, section] of Object.entries(ENGINE_VOLUMES)) {
    const dockerName = `${ctx.project}_${name}`;
    if (!(await docker.inspectVolume(dockerName))) continue;
    const entries = await listTree(docker, { image: await helperImage(), source: dockerName, runId: RUN_ID, hashContents: false });
    const root = entries.find((e) => e.path === '.');
    result[name] = {
      content: `compared logically under "${section}"`,
      root: root ? describe(root) : 'missing',
      owners: [...new Set(entries.map((e) => `${e.uid}:${e.gid}`))].sort(byCodeUnit),
    };
  }
  return result;
}

export async function fingerprintFolders(ctx: StackContext): Promise<Record<string, TreeFingerprint>> {
  const result: Record<string, TreeFingerprint> = {};
  const initScripts = ctx.env.DB_INIT_SCRIPTS!;
  if (existsSync(initScripts)) result.DB_INIT_SCRIPTS = await fingerprintTree(initScripts);
  return result;
}

export function fileSha256(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/**
 * The sha256 of every regular file below `root`, keyed by its path relative
 * to `root`, in the order a depth-first walk meets them; the paths in
 * `skip` (and everything below them) are left out.
 */
export async function hashFilesExcept(root: string, skip: readonly string[]): Promise<Record<string, string>> {
  const isSkipped = (path: string) => skip.some((s) => path === s || path.startsWith(`${s}${sep}`));
  const result: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (isSkipped(path)) continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) result[relative(root, path)] = await fileSha256(path);
    }
  };
  await walk(root);
  return result;
}

/** Every regular file of the config folder except data, backups and the init scripts (a folder of their own). */
export async function fingerprintConfig(ctx: StackContext): Promise<Record<string, string>> {
  const skip = [join(ctx.hossDir, 'data'), ctx.backupRoot, resolve(ctx.env.DB_INIT_SCRIPTS!), resolve(ctx.env.DB_ROOT!)];
  const result = await hashFilesExcept(ctx.hossDir, skip);
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => byCodeUnit(a, b)));
}
