// Helper-container scripts that read or write a whole folder tree as tar.
// The scripts are constants; every variable part (paths, entry names)
// reaches them as positional arguments, never spliced into shell text.
import { OperationError } from '../errors.ts';
import type { DockerClient, Mount } from './types.ts';

/** Counts what is in a tree the same way before backup and after restore. */
export interface TreeCount {
  /** Every entry below the root (files, folders, links, ...), the root itself excluded. */
  entries: number;
  /** Bytes of regular files, each inode once (hard links are not double-counted). */
  bytes: number;
  /** uid:gid and octal mode of the folder itself, where the helper reported them. */
  owner?: string;
  mode?: string;
  /** Extended attributes below the root and 48 bits of a sha256 over them (path, name, value, sorted), where the helper counted them. */
  xattrs?: number;
  xattrHash?: number;
}

// $1: folder to create; $2: uid:gid; $3: octal mode.
const MAKE_FOLDER_SCRIPT = `
set -e
mkdir -p "$1"
chown "$2" "$1"
chmod "$3" "$1"
echo 'entries 0'
`;

// $1: folder; $2..: entries to count (default: everything below $1).
// Prints two totals, "entries N" and "bytes N", summed inside the helper so
// that 200,000 files are two lines to this process, not 200,000. A file with
// several links is summed once: only those inodes are remembered, so awk's
// memory grows with hard links, not with files. No file names are printed,
// so names with newlines cannot confuse the parser. Neither shell here has
// pipefail (busybox ash may, Debian's dash has not): a failing find reaches
// awk as a "failed" line instead, and awk exits non-zero.
export const COUNT_SCRIPT = `
set -e
cd "$1"; shift
[ "$#" -gt 0 ] || set -- .
printf 'entries '
find "$@" -xdev ! -path . -print0 | tr -cd '\\000' | wc -c
{ find "$@" -xdev -type f -exec stat -c '%h %i %s' {} + || echo failed; } \\
  | awk '$1 == "failed" { failed = 1; next } $1 > 1 && seen[$2]++ { next } { bytes += $3 } END { if (failed) exit 1; printf "bytes %.0f\\n", bytes }'
`;

// $1: folder; $2: pipe to write the tar to; $3..: entries (default ".").
const TAR_OUT_SCRIPT = `
set -e
dir="$1"; out="$2"; shift 2
[ "$#" -gt 0 ] || set -- .
stat -c 'owner %u:%g %a' "$dir"
${COUNT_SCRIPT.replace('cd "$1"; shift', 'cd "$dir"')}
tar -c -f "$out" "$@"
`;

// $1: folder to fill; $2: pipe to read the tar from; $3..: entries to
// remove first (default: everything in the folder), so no stale file
// survives. The trailing cat drains what tar leaves unread after its end
// blocks, so the writer on our side never sees a broken pipe for bytes
// nobody needed.
const TAR_IN_SCRIPT = `
set -e
dir="$1"; in="$2"; shift 2
mkdir -p "$dir"
cd "$dir"
if [ "$#" -gt 0 ]; then rm -rf -- "$@"; else find . -xdev -mindepth 1 -maxdepth 1 -exec rm -rf {} +; fi
{ tar -x -f - --numeric-owner; cat > /dev/null; } < "$in"
${COUNT_SCRIPT.replace('cd "$1"; shift', '')}
`;

// GNU tar in an image that has it (and getfattr, Debian's attr): the same
// jobs as TAR_OUT_SCRIPT and TAR_IN_SCRIPT, but extended attributes travel as
// PAX records and are set again on extraction, sparse files stay sparse, and
// tar sets folder and symlink times itself. Each also prints
// "xattrs N HASH": every attribute as "path name=0xvalue", sorted, counted
// and hashed, so the count before a backup and after a restore compare the
// metadata a server keeps there (SELinux labels and ACLs excluded: tar is
// not asked to carry them).
const XATTR_COUNT = `
command -v getfattr > /dev/null || { echo 'getfattr is missing in the helper image (Debian package attr)' >&2; exit 3; }
list=$(mktemp)
getfattr -R -P -h -d -m - -e hex --absolute-names -- "$@" 2>/dev/null \\
  | awk '/^# file: /{f=substr($0,9);next} /=/{if ($0 !~ /^(security[.]selinux|system[.]posix_acl_)/) print f" "$0}' \\
  | LC_ALL=C sort > "$list"
printf 'xattrs %s %s\\n' "$(wc -l < "$list")" "$(sha256sum < "$list" | cut -c1-12)"
rm -f "$list"
`;

/** A script with one of its lines replaced; refuses to build a script that silently kept the old line. */
function swapLine(script: string, line: string, replacement: string): string {
  if (!script.includes(line)) throw new Error(`tree-helper: script has no line ${line}`);
  return script.replace(line, replacement);
}

// TAR_OUT_SCRIPT with GNU tar. Exit 1 of GNU tar means a file changed while
// it was read (a live copy): the copy is still whole, and the record says it
// was live.
const GNU_TAR_OUT_SCRIPT = swapLine(
  TAR_OUT_SCRIPT,
  'tar -c -f "$out" "$@"',
  `${XATTR_COUNT}tar --create --file="$out" --xattrs --xattrs-include='*' --numeric-owner --sparse --one-file-system -- "$@" || [ "$?" -eq 1 ]`,
);

// TAR_IN_SCRIPT with GNU tar, as root: owners, modes and attributes as archived.
const GNU_TAR_IN_SCRIPT = `${swapLine(
  TAR_IN_SCRIPT,
  '{ tar -x -f - --numeric-owner; cat > /dev/null; } < "$in"',
  `{ tar --extract --file=- --xattrs --xattrs-include='*' --numeric-owner --same-owner --same-permissions; cat > /dev/null; } < "$in"`,
)}${XATTR_COUNT}`;

// $1: folder; $2..: entries to count (default: everything below $1).
const GNU_COUNT_SCRIPT = `${COUNT_SCRIPT}${XATTR_COUNT}`;

// GNU tar where busybox tar would run, for trees that hold sparse files
// (LDAP's 1 GiB map): holes are found with SEEK_DATA and stored as PAX 1.0
// sparse members (GNU.sparse.* records, the map before the data), and
// extraction punches them again. Everything else keeps busybox's semantics,
// so members written either way restore with either helper: numeric owners,
// no extended attributes, whole-second mtimes (the PAX atime, ctime and
// sub-second mtime records GNU tar would add to every entry are left out).
// Exit 1 on create means a file changed while it was read (a live copy).
const SPARSE_TAR_FLAGS = '--format=posix --sparse --sparse-version=1.0 --pax-option=delete=atime,delete=ctime,delete=mtime --numeric-owner';
const SPARSE_TAR_OUT_SCRIPT = swapLine(TAR_OUT_SCRIPT, 'tar -c -f "$out" "$@"', `tar --create --file="$out" ${SPARSE_TAR_FLAGS} -- "$@" || [ "$?" -eq 1 ]`);
const SPARSE_TAR_IN_SCRIPT = swapLine(
  TAR_IN_SCRIPT,
  '{ tar -x -f - --numeric-owner; cat > /dev/null; } < "$in"',
  '{ tar --extract --file=- --numeric-owner --same-owner --same-permissions; cat > /dev/null; } < "$in"',
);

export function parseTreeCount(output: string): TreeCount {
  const entry = /^entries\s+(\d+)$/m.exec(output);
  if (!entry) throw new OperationError(`helper printed no entry count: ${output.slice(0, 200)}`);
  const entries = Number(entry[1]);
  // A script that copies nothing (making a folder, removing one) prints no byte total.
  const bytes = Number(/^bytes (\d+)$/m.exec(output)?.[1] ?? 0);
  const owner = /^owner (\d+:\d+) ([0-7]+)$/m.exec(output);
  const xattrs = /^xattrs\s+(\d+) ([0-9a-f]{12})$/m.exec(output);
  return {
    entries,
    bytes,
    ...(owner ? { owner: owner[1]!, mode: owner[2]! } : {}),
    ...(xattrs ? { xattrs: Number(xattrs[1]), xattrHash: Number.parseInt(xattrs[2]!, 16) } : {}),
  };
}

export interface TreeHelperRun {
  docker: DockerClient;
  image: string;
  runId: string;
  purpose: string;
  mounts: Mount[];
  signal?: AbortSignal;
  /** The image runs GNU tar and getfattr: copies keep extended attributes, counts include them. */
  xattrs?: boolean;
  /** The image runs GNU tar: copies keep holes, with busybox tar's semantics otherwise (SPARSE_TAR_FLAGS). */
  sparse?: boolean;
}

async function runScript(run: TreeHelperRun, script: string, args: string[]): Promise<TreeCount> {
  const result = await run.docker.runHelper({
    image: run.image,
    argv: ['sh', '-c', script, 'hossadm-helper', ...args],
    mounts: run.mounts,
    purpose: run.purpose,
    runId: run.runId,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  if (result.exitCode !== 0) {
    throw new OperationError(`${run.purpose}: helper container exited with ${result.exitCode}`, {
      details: result.stderr.trim(),
      hint: 'see the helper\'s error above',
    });
  }
  return parseTreeCount(result.stdout);
}

/** Counts a tree, then writes it as tar into `pipe` (inside the container). */
export function tarTreeOut(run: TreeHelperRun, dir: string, pipe: string, entries: string[] = []): Promise<TreeCount> {
  return runScript(run, run.xattrs ? GNU_TAR_OUT_SCRIPT : run.sparse ? SPARSE_TAR_OUT_SCRIPT : TAR_OUT_SCRIPT, [dir, pipe, ...entries]);
}

/**
 * Empties `dir` (or removes just `replace` inside it), extracts the tar read
 * from `pipe` into it, and counts the result (all of it, or the `replace` entries).
 */
export function tarTreeIn(run: TreeHelperRun, dir: string, pipe: string, replace: string[] = []): Promise<TreeCount> {
  return runScript(run, run.xattrs ? GNU_TAR_IN_SCRIPT : run.sparse ? SPARSE_TAR_IN_SCRIPT : TAR_IN_SCRIPT, [dir, pipe, ...replace]);
}

/** Counts a tree without copying it (the proof after a restore). */
export function countTree(run: TreeHelperRun, dir: string, entries: string[] = []): Promise<TreeCount> {
  return runScript(run, run.xattrs ? GNU_COUNT_SCRIPT : COUNT_SCRIPT, [dir, ...entries]);
}

/** Creates a folder with the owner and mode a backup recorded (numeric, never guessed). */
export async function makeFolder(run: TreeHelperRun, dir: string, owner: string, mode: string): Promise<void> {
  if (!/^\d+:\d+$/.test(owner) || !/^[0-7]{3,4}$/.test(mode)) throw new OperationError(`bad owner ${owner} or mode ${mode} for ${dir}`);
  await runScript(run, MAKE_FOLDER_SCRIPT, [dir, owner, mode]);
}

// $1: folder to delete with everything in it, as root (files of other uids included).
const REMOVE_SCRIPT = `
set -e
rm -rf -- "$1"
echo 'entries 0'
`;

/** Removes a folder and its contents inside a helper: the files belong to the engine's uid, not ours. */
export async function removeTree(run: TreeHelperRun, dir: string): Promise<void> {
  await runScript(run, REMOVE_SCRIPT, [dir]);
}

// $1: path whose owner and mode to print.
const OWNER_SCRIPT = `
set -e
stat -c 'owner %u:%g %a' "$1"
echo 'entries 0'
`;

/** Owner (uid:gid) and mode of a folder as the engine sees it. */
export async function folderOwner(run: TreeHelperRun, dir: string): Promise<{ owner: string; mode: string }> {
  const count = await runScript(run, OWNER_SCRIPT, [dir]);
  return { owner: count.owner ?? '0:0', mode: count.mode ?? '755' };
}

// $1: folder; $2: file of NUL-separated "mtime, path" pairs. Run after an
// extraction: setting a time does not touch the parent's, so order is free.
const SET_TIMES_SCRIPT = `
set -e
cd "$1"
xargs -0 -r -n 2 sh -c 'touch -c -h -d "@$0" "$1"' < "$2"
echo 'entries 0'
`;

/** Sets modification times (of folders and symlinks, which tar extraction leaves wrong). */
export async function setTimes(run: TreeHelperRun, dir: string, listFile: string): Promise<void> {
  await runScript(run, SET_TIMES_SCRIPT, [dir, listFile]);
}

/** The whole set of scripts a tree helper runs: anything else reaching a helper's shell would be a bug. */
export const TREE_SCRIPTS: readonly string[] = [
  MAKE_FOLDER_SCRIPT,
  COUNT_SCRIPT,
  TAR_OUT_SCRIPT,
  TAR_IN_SCRIPT,
  REMOVE_SCRIPT,
  OWNER_SCRIPT,
  SET_TIMES_SCRIPT,
  GNU_COUNT_SCRIPT,
  SPARSE_TAR_OUT_SCRIPT,
  SPARSE_TAR_IN_SCRIPT,
  GNU_TAR_OUT_SCRIPT,
  GNU_TAR_IN_SCRIPT,
];
