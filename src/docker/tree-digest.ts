// Describes a folder tree (a named volume or a bind-mounted folder) entry by
// entry, as the engine sees it: a helper container running as root reads
// type, owner, mode, size, hard-link count, content hash and link target, so
// ownership is numeric and never translated by the host's accounts. The
// digest of that listing changes when any byte, mode or owner in the tree
// does, which is what "the same tree" means after a restore.
import { createHash } from 'node:crypto';
import { OperationError } from '../errors.ts';
import type { DockerClient } from './types.ts';

export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

export interface TreeEntry {
  /** Relative to the tree's root, "." being the root itself. */
  path: string;
  type: TreeEntryType;
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky, e.g. 0o4755. */
  mode: number;
  /** Regular files and symlinks only: a folder's size depends on the file system, not on its content. */
  size?: number;
  /** Non-folders only: a folder's link count depends on the file system too. */
  nlink?: number;
  sha256?: string;
  target?: string;
}

// Records are NUL-separated (path, "rawmode uid gid size nlink", sha256,
// link target) so names holding newlines or spaces parse unambiguously.
// $1 = 0 skips content hashes, for trees whose content is compared some
// other way but whose shape and ownership still matter.
export const LIST_SCRIPT = `
set -eu
cd /tree
export HASH_CONTENT="$1"
find . -xdev -exec sh -c '
for p do
  st=$(stat -c "%f %u %g %s %h" "$p")
  h= l=
  if [ -L "$p" ]; then l=$(readlink "$p"); elif [ -f "$p" ] && [ "$HASH_CONTENT" = 1 ]; then h=$(sha256sum < "$p"); h=\${h%% *}; fi
  printf "%s\\0%s\\0%s\\0%s\\0" "$p" "$st" "$h" "$l"
done' sh {} +
printf '%s\\0' "$END"
`;

/** Closes every complete listing, so a cut-off one is never taken for a small tree. */
const END = '#end-of-listing';

const TYPE_BITS: Record<number, TreeEntryType> = {
  0o140000: 'socket',
  0o120000: 'symlink',
  0o100000: 'file',
  0o060000: 'block',
  0o040000: 'dir',
  0o020000: 'char',
  0o010000: 'fifo',
};

export class TruncatedListingError extends OperationError {}

export function parseTreeListing(output: string): TreeEntry[] {
  const fields = output.split('\0');
  // A complete listing ends with the marker and a NUL, so the split leaves an empty tail.
  if (fields.pop() !== '' || fields.pop() !== END || fields.length % 4 !== 0) {
    throw new TruncatedListingError('tree listing from the helper is truncated or malformed');
  }
  const entries: TreeEntry[] = [];
  for (let i = 0; i < fields.length; i += 4) {
    const rawPath = fields[i]!;
    const stat = fields[i + 1]!.trim().split(/\s+/);
    if (stat.length !== 5) throw new OperationError(`tree listing has a bad record for ${JSON.stringify(rawPath)}`);
    const rawMode = parseInt(stat[0]!, 16);
    const type = TYPE_BITS[rawMode & 0o170000];
    if (type === undefined) throw new OperationError(`unknown file type ${stat[0]} for ${JSON.stringify(rawPath)}`);
    const entry: TreeEntry = {
      path: rawPath === '.' ? '.' : rawPath.replace(/^\.\//, ''),
      type,
      uid: Number(stat[1]),
      gid: Number(stat[2]),
      mode: rawMode & 0o7777,
    };
    if (type === 'file' || type === 'symlink') entry.size = Number(stat[3]);
    if (type !== 'dir') entry.nlink = Number(stat[4]);
    if (type === 'file' && fields[i + 2]) entry.sha256 = fields[i + 2]!;
    if (type === 'symlink') entry.target = fields[i + 3]!;
    entries.push(entry);
  }
  // Byte order of the UTF-8 path: independent of any locale.
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** One line per entry in a fixed field order; the digest is over these lines. */
export function treeEntryLine(e: TreeEntry): string {
  return JSON.stringify([e.path, e.type, e.uid, e.gid, e.mode.toString(8).padStart(4, '0'), e.size ?? null, e.nlink ?? null, e.sha256 ?? null, e.target ?? null]);
}

export function digestTree(entries: readonly TreeEntry[]): string {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${treeEntryLine(e)}\n`);
  return hash.digest('hex');
}

export interface ListTreeOptions {
  /** A busybox image (find, stat, sha256sum, readlink). */
  image: string;
  /** A named volume or an absolute host path; mounted read-only. */
  source: string;
  runId: string;
  /** Default true; false lists metadata only (no file is read). */
  hashContents?: boolean;
  signal?: AbortSignal;
}

/** Attempts per listing: a helper's output can arrive cut short (see below). */
const ATTEMPTS = 3;

export async function listTree(docker: DockerClient, options: ListTreeOptions): Promise<TreeEntry[]> {
  for (let attempt = 1; ; attempt++) {
    const result = await docker.runHelper({
      image: options.image,
      argv: ['sh', '-c', LIST_SCRIPT, 'list-tree', options.hashContents === false ? '0' : '1'],
      mounts: [{ source: options.source, target: '/tree', readOnly: true }],
      purpose: `list tree ${options.source}`,
      runId: options.runId,
      env: { END },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (result.exitCode !== 0) {
      throw new OperationError(`listing ${options.source} failed (helper exit ${result.exitCode})`, { details: result.stderr.trim() });
    }
    try {
      return parseTreeListing(result.stdout);
    } catch (error) {
      // The helper's stdout is read over attach; when the container exits
      // before the last bytes were read, they are lost. The listing itself
      // is read-only, so running it again is safe.
      if (!(error instanceof TruncatedListingError) || attempt >= ATTEMPTS) throw error;
    }
  }
}
