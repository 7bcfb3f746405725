// The staging folder BACKUP_ROOT/.current: every member of a backup is
// written here, compressed, before the archive is assembled from them.
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ensureDir, remove } from 'fs-extra/esm';
import { stageMember } from '../archive/member-writer.ts';
import { readBackStaged, type StagedCheck } from '../archive/staged-read-back.ts';
import type { Codec } from '../archive/codec.ts';
import { ArchiveError } from '../errors.ts';
import { noSpaceWhile } from './no-space.ts';

export interface StagedMember {
  /** Name inside the archive, e.g. volumes/auth-secrets.tar. */
  name: string;
  component: string;
  stagedPath: string;
  /** Uncompressed size and sha256: what a restore will check. */
  size: number;
  sha256: string;
  storedSize: number;
}

const SAFE_MEMBER = /^[a-z0-9][a-z0-9._-]*(\/[a-zA-Z0-9][a-zA-Z0-9._-]*)*$/;

export class Staging {
  readonly dir: string;
  readonly codec: Codec;
  readonly members: StagedMember[] = [];
  private readonly signal: AbortSignal | undefined;
  /** Each member's read-back, started once it is staged, in staging order. */
  private readonly readBacks: Promise<void>[] = [];
  private readonly check: typeof readBackStaged;

  constructor(dir: string, codec: Codec, signal?: AbortSignal, check: (member: StagedCheck, codec: Codec, signal?: AbortSignal) => Promise<void> = readBackStaged) {
    this.dir = dir;
    this.codec = codec;
    this.signal = signal;
    this.check = check;
  }

  /** Folder inside staging where pipes are made (bind-mounted into helpers). */
  get pipeDir(): string {
    return join(this.dir, 'pipes');
  }

  async create(): Promise<void> {
    await ensureDir(this.pipeDir, { mode: 0o700 });
  }

  async add(component: string, name: string, input: Readable): Promise<StagedMember> {
    if (!SAFE_MEMBER.test(name) || name.includes('..')) throw new ArchiveError(`member name "${name}" is not a safe relative name`);
    if (this.members.some((m) => m.name === name)) throw new ArchiveError(`member ${name} staged twice`);
    const stagedPath = join(this.dir, 'members', `${name}.staged`);
    await ensureDir(dirname(stagedPath), { mode: 0o700 });
    const result = await noSpaceWhile(`staging ${name} in ${this.dir}`, () => stageMember(input, stagedPath, this.codec, this.signal));
    const member: StagedMember = { name, component, stagedPath, size: result.size, sha256: result.sha256, storedSize: result.storedSize };
    this.members.push(member);
    const readBack = this.check(member, this.codec, this.signal);
    // Awaited in readBack(); a failure meanwhile must not be an unhandled rejection.
    readBack.catch(() => undefined);
    this.readBacks.push(readBack);
    return member;
  }

  /** Waits for every staged member's read-back; throws the first member's that failed. */
  async readBack(): Promise<number> {
    for (const readBack of this.readBacks) await readBack;
    return this.readBacks.length;
  }

  async remove(): Promise<void> {
    // A read-back still going would fail on the removed file, or keep it open.
    await Promise.allSettled(this.readBacks);
    await remove(this.dir);
  }
}
