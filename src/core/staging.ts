// The staging folder BACKUP_ROOT/.current: every member of a backup is
// written here, compressed, before the archive is assembled from them.
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ensureDir, remove } from 'fs-extra/esm';
import { stageMember } from '../archive/member-writer.ts';
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

  constructor(dir: string, codec: Codec, signal?: AbortSignal) {
    this.dir = dir;
    this.codec = codec;
    this.signal = signal;
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
    return member;
  }

  async remove(): Promise<void> {
    await remove(this.dir);
  }
}
