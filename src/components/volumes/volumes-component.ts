// Named volumes (auth secrets, LDAP database and config, RabbitMQ data):
// each is read and written only by a short-lived helper container running
// as root, with tar inside the helper, so owners, modes, symlinks and hard
// links travel numerically and hossadm itself never needs sudo.
import { PreflightError, StackError } from '../../errors.ts';
import { readFromContainer, writeToContainer } from '../../core/fifo.ts';
import { countTree, setTimes, tarTreeIn, tarTreeOut, type TreeCount, type TreeHelperRun } from '../../docker/tree-helper.ts';
import { EntryTimeTap, timesList } from './entry-times.ts';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackConfig, VolumeRef } from '../../config/stack-config.ts';
import { pipeline } from 'node:stream/promises';
import type { BackupContext, BackupTask, Component, ComponentRecord, ContentFingerprint, RestoreContext, RestoreTask, RunContext } from '../component.ts';

const PREFIX = 'volumes/';
const memberName = (volume: VolumeRef) => `${PREFIX}${volume.name}.tar`;

function helper(ctx: RunContext, purpose: string, mounts: TreeHelperRun['mounts']): TreeHelperRun {
  return { docker: ctx.docker, image: ctx.config.helperImage, runId: ctx.runId, purpose, mounts, signal: ctx.signal };
}

function toFingerprint(counts: Map<string, TreeCount>): ContentFingerprint {
  const fingerprint: ContentFingerprint = {};
  for (const [name, count] of counts) fingerprint[name] = { entries: count.entries, bytes: count.bytes };
  return fingerprint;
}

/** Compose adopts a volume it did not create only when it carries compose's labels. */
export function composeVolumeLabels(project: string, volume: string): Record<string, string> {
  return { 'com.docker.compose.project': project, 'com.docker.compose.volume': volume, 'com.docker.compose.version': '1.29.2' };
}

export async function requireHelperImage(ctx: RunContext): Promise<void> {
  if (!(await ctx.docker.imageExists(ctx.config.helperImage))) {
    throw new PreflightError(`helper image ${ctx.config.helperImage} is not on this host`, {
      hint: `docker pull ${ctx.config.helperImage}, or set HOSSADM_HELPER_IMAGE in .env to a busybox image that is`,
    });
  }
}

export const volumesComponent: Component = {
  id: 'volumes',

  planBackup(config: StackConfig) {
    return config.volumes.map((v) => `copy volume ${v.dockerName} with a ${config.helperImage} helper into ${memberName(v)}`);
  },

  ownsMember: (name) => name.startsWith(PREFIX),

  async preflightBackup(ctx) {
    await requireHelperImage(ctx);
    for (const volume of ctx.config.volumes) {
      if (!(await ctx.docker.inspectVolume(volume.dockerName))) {
        throw new StackError(`volume ${volume.dockerName} does not exist`, {
          hint: `check COMPOSE_PROJECT_NAME and HOSSADM_VOLUMES in ${ctx.config.envPath}, or bring the stack up once`,
        });
      }
    }
    let estimatedBytes = 0;
    for (const volume of ctx.config.volumes) {
      const count = await countTree(helper(ctx, `size of volume ${volume.name}`, [{ source: volume.dockerName, target: '/vol', readOnly: true }]), '/vol');
      estimatedBytes += count.bytes;
    }
    return { versions: {}, estimatedBytes };
  },

  backup(ctx: BackupContext): BackupTask {
    const counts = new Map<string, TreeCount>();
    return {
      async freeze() {
        for (const volume of ctx.config.volumes) {
          await ctx.reporter.step(`volume ${volume.dockerName}`, async () => {
            const staged = await readFromContainer(
              { hostDir: ctx.staging.pipeDir, name: `${volume.name}.tar` },
              (input) => ctx.staging.add('volumes', memberName(volume), input),
              async () => {
                const mounts = [
                  { source: volume.dockerName, target: '/vol', readOnly: true },
                  { source: ctx.staging.pipeDir, target: '/out' },
                ];
                counts.set(volume.name, await tarTreeOut(helper(ctx, `backup volume ${volume.name}`, mounts), '/vol', `/out/${volume.name}.tar`));
              },
            );
            return staged;
          }, (staged) => `${counts.get(volume.name)?.entries ?? 0} entries, ${staged.size} bytes`);
        }
      },
      async finish(): Promise<ComponentRecord> {
        return {
          details: { volumes: ctx.config.volumes.map((v) => ({ name: v.name, member: memberName(v) })) },
          fingerprint: toFingerprint(counts),
          live: ctx.mode === 'hot',
        };
      },
    };
  },

  restore(ctx: RestoreContext): RestoreTask {
    const saved = (ctx.record.details.volumes ?? []) as { name: string; member: string }[];
    const byMember = new Map(saved.map((v) => [v.member, v.name]));
    // Counted right after extraction: once a service starts it may rewrite
    // its own files (RabbitMQ does), and that is not a restore's fault.
    const extracted = new Map<string, TreeCount>();
    const dockerName = (name: string) => `${ctx.config.project}_${name}`;
    return {
      async describe() {
        return saved.map((v) => `volume ${dockerName(v.name)}: emptied and refilled from ${v.member}`);
      },
      async preflight() {
        await requireHelperImage(ctx);
      },
      async receive(member, input) {
        const name = byMember.get(member);
        if (!name) throw new StackError(`archive member ${member} names no volume of the manifest`);
        if (!(await ctx.docker.inspectVolume(dockerName(name)))) {
          await ctx.docker.createVolume(dockerName(name), composeVolumeLabels(ctx.config.project, name));
        }
        const mounts = [
          { source: dockerName(name), target: '/vol' },
          { source: ctx.pipeDir, target: '/in', readOnly: true },
        ];
        const times = new EntryTimeTap();
        await ctx.reporter.step(`volume ${dockerName(name)}`, () =>
          writeToContainer(
            { hostDir: ctx.pipeDir, name: `${name}.tar` },
            (output) => pipeline(input, times, output),
            async () => {
              extracted.set(name, await tarTreeIn(helper(ctx, `restore volume ${name}`, mounts), '/vol', `/in/${name}.tar`));
            },
          ),
        );
        if (times.problem) {
          ctx.reporter.warn(`volume ${name}: folder and symlink times left as extracted (${times.problem})`);
        } else if (times.times.length > 0) {
          const list = join(ctx.pipeDir, `${name}.times`);
          await writeFile(list, timesList(times.times), { mode: 0o600 });
          try {
            await setTimes(helper(ctx, `restore times in volume ${name}`, mounts), '/vol', `/in/${name}.times`);
          } finally {
            await rm(list, { force: true });
          }
        }
      },
      async fingerprint() {
        const counts = new Map<string, TreeCount>();
        for (const volume of saved) {
          const placed = extracted.get(volume.name);
          if (placed) {
            counts.set(volume.name, placed);
            continue;
          }
          counts.set(volume.name, await countTree(helper(ctx, `count volume ${volume.name}`, [{ source: dockerName(volume.name), target: '/vol', readOnly: true }]), '/vol'));
        }
        return toFingerprint(counts);
      },
    };
  },
};
