// A tree (a named volume, a bind-mounted host folder) crosses between the
// stack and an archive member through a short-lived helper container running
// tar as root, so owners, modes, symlinks and hard links travel numerically
// and hossadm itself never needs sudo. Both the volumes and the folder kinds
// copy this way; only what is mounted at /tree differs.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { readFromContainer, writeToContainer } from '../../core/fifo.ts';
import { countTree, setTimes, tarTreeIn, tarTreeOut, type TreeCount, type TreeHelperRun } from '../../docker/tree-helper.ts';
import { PreflightError } from '../../errors.ts';
import { countingStream } from '../../ui/reporter.ts';
import type { BackupContext, ContentFingerprint, RestoreContext, RunContext } from '../component.ts';
import { EntryTimeTap, timesList } from './entry-times.ts';
import { expandSparseMembers } from './sparse-expand.ts';

export const TREE = '/tree';

/** A named volume or an absolute host folder, as the helper mounts it. */
export interface TreeSource {
  /** Volume name or host path. */
  source: string;
  /** For messages: "volume x_y", "folder /srv/files". */
  label: string;
  /** Only these entries of the tree (default: all of it). */
  entries?: string[];
  /** A folder below the mounted source to work in (a volume cannot be mounted in part). */
  subdir?: string;
  /** Copy with GNU tar in this image instead of busybox tar in the helper image, keeping extended attributes (tree-helper.ts). */
  xattrsImage?: string;
  /** Copy with GNU tar in this image instead of busybox tar in the helper image, keeping holes and busybox's semantics otherwise (tree-helper.ts). */
  sparseImage?: string;
}

const dirOf = (tree: TreeSource) => (tree.subdir ? `${TREE}/${tree.subdir}` : TREE);

export function treeHelper(ctx: RunContext, purpose: string, mounts: TreeHelperRun['mounts'], tar: Pick<TreeSource, 'xattrsImage' | 'sparseImage'> = {}): TreeHelperRun {
  const image = tar.xattrsImage
    ? { image: tar.xattrsImage, xattrs: true }
    : tar.sparseImage
      ? { image: tar.sparseImage, sparse: true }
      : { image: ctx.config.helperImage };
  return { docker: ctx.docker, ...image, runId: ctx.runId, purpose, mounts, signal: ctx.signal };
}

export async function requireHelperImage(ctx: RunContext): Promise<void> {
  if (!(await ctx.docker.imageExists(ctx.config.helperImage))) {
    throw new PreflightError(`helper image ${ctx.config.helperImage} is not on this host`, {
      hint: `docker pull ${ctx.config.helperImage}, or set HOSSADM_HELPER_IMAGE in .env to a busybox image that is`,
    });
  }
}

export function treeFingerprint(counts: ReadonlyMap<string, TreeCount>): ContentFingerprint {
  const fingerprint: ContentFingerprint = {};
  for (const [name, count] of counts) {
    const { entries, bytes, xattrs, xattrHash } = count;
    fingerprint[name] = xattrs === undefined ? { entries, bytes } : { entries, bytes, xattrs, xattrHash: xattrHash ?? 0 };
  }
  return fingerprint;
}

/** Counts taken in this run, so a copy after its pre-flight count can show how far it is. */
const counted = new Map<string, TreeCount>();
const countKey = (ctx: RunContext, tree: TreeSource) => JSON.stringify([ctx.runId, tree.source, tree.subdir ?? '', tree.entries ?? []]);

/** About the size of the tar stream of a tree of this count: headers and padding on top of the contents. */
export function tarBytesOf(count: { entries?: number; bytes?: number } | undefined): number | undefined {
  if (!count || count.bytes === undefined) return undefined;
  return count.bytes + (count.entries ?? 0) * 768 + 1024;
}

/** Counts a tree without copying it (the free-space estimate, the proof after a restore). */
export async function countSource(ctx: RunContext, tree: TreeSource): Promise<TreeCount> {
  const count = await countTree(treeHelper(ctx, `count ${tree.label}`, [{ source: tree.source, target: TREE, readOnly: true }], tree), dirOf(tree), tree.entries);
  if (counted.size > 256) counted.clear();
  counted.set(countKey(ctx, tree), count);
  return count;
}

/** Streams a tree into one staged member of the instance `component`. */
export async function stageTree(ctx: BackupContext, component: string, member: string, tree: TreeSource): Promise<TreeCount> {
  let count: TreeCount | undefined;
  const pipe = `${member.replace(/\//g, '-')}.pipe`;
  const expected = tarBytesOf(counted.get(countKey(ctx, tree)));
  counted.delete(countKey(ctx, tree));
  const staged = await ctx.reporter.step(tree.label, (handle) =>
    readFromContainer(
      { hostDir: ctx.staging.pipeDir, name: pipe },
      (input) => ctx.staging.add(component, member, countingStream(input, handle, expected)),
      async () => {
        const mounts = [{ source: tree.source, target: TREE, readOnly: true }, { source: ctx.staging.pipeDir, target: '/out' }];
        count = await tarTreeOut(treeHelper(ctx, `backup ${tree.label}`, mounts, tree), dirOf(tree), `/out/${pipe}`, tree.entries);
      },
    ),
    (m) => `${count?.entries ?? 0} entries, ${m.size} bytes`,
  );
  void staged;
  return count!;
}

/**
 * Replaces a tree (or only its listed entries) with a member's contents,
 * then sets the times busybox tar leaves as extracted (folders, symlinks;
 * GNU tar sets them itself). busybox gets sparse members (written by the
 * GNU tar helper) expanded into plain ones on the way (sparse-expand.ts).
 * Returns the count taken right after extraction: once a service starts it
 * may rewrite its own files, and that is not a restore's fault. `saved` (the
 * count the backup recorded) gives the progress shown an expected size.
 */
export async function placeTree(ctx: RestoreContext, input: Readable, tree: TreeSource, saved?: { entries?: number; bytes?: number }): Promise<TreeCount> {
  const pipe = `${tree.label.replace(/[^A-Za-z0-9._-]+/g, '-')}.tar`;
  const mounts = [{ source: tree.source, target: TREE }, { source: ctx.pipeDir, target: '/in', readOnly: true }];
  const times = new EntryTimeTap();
  let extracted: TreeCount | undefined;
  await ctx.reporter.step(tree.label, (handle) =>
    writeToContainer(
      { hostDir: ctx.pipeDir, name: pipe },
      (output) => {
        const metered = countingStream(input, handle, tarBytesOf(saved));
        if (tree.xattrsImage || tree.sparseImage) return pipeline(metered, output);
        return pipeline(metered, expandSparseMembers, times, output);
      },
      async () => {
        extracted = await tarTreeIn(treeHelper(ctx, `restore ${tree.label}`, mounts, tree), dirOf(tree), `/in/${pipe}`, tree.entries);
      },
    ),
  );
  // GNU tar sets folder and symlink times itself.
  if (tree.xattrsImage || tree.sparseImage) return extracted!;
  if (times.problem) {
    ctx.reporter.warn(`${tree.label}: folder and symlink times left as extracted (${times.problem})`);
  } else if (times.times.length > 0) {
    const list = join(ctx.pipeDir, `${pipe}.times`);
    await writeFile(list, timesList(times.times), { mode: 0o600 });
    try {
      await setTimes(treeHelper(ctx, `restore times in ${tree.label}`, mounts), dirOf(tree), `/in/${pipe}.times`);
    } finally {
      await rm(list, { force: true });
    }
  }
  return extracted!;
}
