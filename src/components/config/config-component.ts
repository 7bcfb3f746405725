// The stack's configuration folder (HOSS_DIR): .env with every secret, the
// proxy config and the per-service folders. Only the entries the profile
// lists are saved, so data folders and BACKUP_ROOT that may live inside
// HOSS_DIR never end up in the archive.
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readFromContainer, writeToContainer } from '../../core/fifo.ts';
import { countTree, tarTreeIn, tarTreeOut, type TreeCount, type TreeHelperRun } from '../../docker/tree-helper.ts';
import { ConfigError } from '../../errors.ts';
import type { StackConfig } from '../../config/stack-config.ts';
import type { BackupContext, Component, ComponentRecord, RestoreContext, RunContext } from '../component.ts';
import { requireHelperImage } from '../volumes/volumes-component.ts';

export const CONFIG_MEMBER = 'config.tar';

async function existingEntries(config: StackConfig): Promise<string[]> {
  const found: string[] = [];
  for (const entry of config.profile.config.entries) {
    try {
      await lstat(join(config.configDir, entry));
      found.push(entry);
    } catch {
      // Absent entries are normal: not every deployment has every service.
    }
  }
  return found;
}

function helper(ctx: RunContext, purpose: string, readOnly: boolean, pipeDir: string, pipeMount: string): TreeHelperRun {
  return {
    docker: ctx.docker,
    image: ctx.config.helperImage,
    runId: ctx.runId,
    purpose,
    signal: ctx.signal,
    mounts: [
      { source: ctx.config.configDir, target: '/config', readOnly },
      { source: pipeDir, target: pipeMount, readOnly: pipeMount === '/in' },
    ],
  };
}

export const configComponent: Component = {
  id: 'config',

  planBackup(config) {
    return [`copy ${config.profile.config.entries.join(', ')} from ${config.configDir} (those that exist) into ${CONFIG_MEMBER}`];
  },

  ownsMember: (name) => name === CONFIG_MEMBER,

  async preflightBackup(ctx) {
    await requireHelperImage(ctx);
    const entries = await existingEntries(ctx.config);
    if (!entries.includes('.env')) throw new ConfigError(`${ctx.config.envPath} is missing`);
    return { versions: {}, estimatedBytes: 0 };
  },

  backup(ctx: BackupContext) {
    let entries: string[] = [];
    let count: TreeCount | undefined;
    return {
      async prepare() {
        entries = await existingEntries(ctx.config);
        await ctx.reporter.step(`config ${ctx.config.configDir}`, () =>
          readFromContainer(
            { hostDir: ctx.staging.pipeDir, name: CONFIG_MEMBER },
            (input) => ctx.staging.add('config', CONFIG_MEMBER, input),
            async () => {
              count = await tarTreeOut(helper(ctx, 'backup config', true, ctx.staging.pipeDir, '/out'), '/config', `/out/${CONFIG_MEMBER}`, entries);
            },
          ),
          () => `${entries.join(', ')}`,
        );
      },
      async finish(): Promise<ComponentRecord> {
        return { details: { entries }, fingerprint: { config: { entries: count!.entries, bytes: count!.bytes } }, live: false };
      },
    };
  },

  restore(ctx: RestoreContext) {
    const entries = (ctx.record.details.entries ?? []) as string[];
    // Counted as extracted: the restore itself adds an init script under core/ for a while.
    let extracted: TreeCount | undefined;
    return {
      async describe() {
        return [`config ${ctx.config.configDir}: ${entries.join(', ')} replaced from ${CONFIG_MEMBER}`];
      },
      async preflight() {
        await requireHelperImage(ctx);
      },
      async receive(_member, input) {
        await mkdir(ctx.config.configDir, { recursive: true, mode: 0o700 });
        await ctx.reporter.step(`config ${ctx.config.configDir}`, () =>
          writeToContainer(
            { hostDir: ctx.pipeDir, name: CONFIG_MEMBER },
            (output) => pipeline(input, output),
            async () => {
              extracted = await tarTreeIn(helper(ctx, 'restore config', false, ctx.pipeDir, '/in'), '/config', `/in/${CONFIG_MEMBER}`, entries);
            },
          ),
        );
      },
      async fingerprint() {
        const count = extracted ?? (await countTree(helper(ctx, 'count config', true, ctx.pipeDir, '/in'), '/config', entries));
        return { config: { entries: count.entries, bytes: count.bytes } };
      },
    };
  },
};
