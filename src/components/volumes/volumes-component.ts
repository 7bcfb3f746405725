// Named volumes (auth secrets, LDAP database and config, RabbitMQ data):
// each is copied through a helper container (tree/tree-copy.ts) while the
// services that write it are stopped, and refilled from scratch on restore.
import { StackError } from '../../errors.ts';
import type { TreeCount } from '../../docker/tree-helper.ts';
import { object, onlyKeys, textList } from '../../config/shape.ts';
import type { Values } from '../../config/values.ts';
import type { BackupContext, BackupTask, Component, ComponentRecord, RestoreContext, RestoreTask } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { countSource, placeTree, requireHelperImage, stageTree, treeFingerprint } from '../tree/tree-copy.ts';

export interface VolumesConfig {
  /** Volume names as the compose files write them; the engine's names carry the project prefix. */
  volumes: string[];
}

/** Compose adopts a volume it did not create only when it carries compose's labels. */
export function composeVolumeLabels(project: string, volume: string): Record<string, string> {
  return { 'com.docker.compose.project': project, 'com.docker.compose.volume': volume, 'com.docker.compose.version': '1.29.2' };
}

function createVolumes(id: string, config: VolumesConfig, values: Values): Component {
  // HOSSADM_VOLUMES in .env narrows the list (a stack that does not deploy every service).
  const override = values.vars.HOSSADM_VOLUMES?.split(/[,\s]+/).filter(Boolean);
  const volumes = override && override.length > 0 ? override : config.volumes;
  const memberName = (volume: string) => `${id}/${volume}.tar`;
  const dockerName = (project: string, volume: string) => `${project}_${volume}`;
  const source = (project: string, volume: string) => ({ source: dockerName(project, volume), label: `volume ${dockerName(project, volume)}` });

  return {
    id,
    kind: 'volumes',
    planBackup: (stack) => volumes.map((v) => `copy volume ${dockerName(stack.project, v)} with a ${stack.helperImage} helper into ${memberName(v)}`),
    keepRunning: () => [],
    hostPaths: () => [],
    restoresInto: () => 'engine-storage',
    probes: () => [],

    async preflightBackup(ctx) {
      await requireHelperImage(ctx);
      for (const volume of volumes) {
        if (!(await ctx.docker.inspectVolume(dockerName(ctx.config.project, volume)))) {
          throw new StackError(`volume ${dockerName(ctx.config.project, volume)} does not exist`, {
            hint: `check COMPOSE_PROJECT_NAME and HOSSADM_VOLUMES in ${ctx.config.envPath}, or bring the stack up once`,
          });
        }
      }
      let estimatedBytes = 0;
      for (const volume of volumes) estimatedBytes += (await countSource(ctx, source(ctx.config.project, volume))).bytes;
      return { versions: {}, estimatedBytes };
    },

    backup(ctx: BackupContext): BackupTask {
      const counts = new Map<string, TreeCount>();
      return {
        async freeze() {
          for (const volume of volumes) counts.set(volume, await stageTree(ctx, id, memberName(volume), source(ctx.config.project, volume)));
        },
        async finish(): Promise<ComponentRecord> {
          return { details: { volumes: volumes.map((v) => ({ name: v, member: memberName(v) })) }, fingerprint: treeFingerprint(counts), live: ctx.mode === 'hot' };
        },
      };
    },

    restore(ctx: RestoreContext): RestoreTask {
      const saved = (ctx.record.details.volumes ?? []) as { name: string; member: string }[];
      const byMember = new Map(saved.map((v) => [v.member, v.name]));
      const extracted = new Map<string, TreeCount>();
      return {
        describe: async () => saved.map((v) => `volume ${dockerName(ctx.config.project, v.name)}: emptied and refilled from ${v.member}`),
        preflight: () => requireHelperImage(ctx),
        async receive(member, input) {
          const name = byMember.get(member);
          if (!name) throw new StackError(`archive member ${member} names no volume of the manifest`);
          if (!(await ctx.docker.inspectVolume(dockerName(ctx.config.project, name)))) {
            await ctx.docker.createVolume(dockerName(ctx.config.project, name), composeVolumeLabels(ctx.config.project, name));
          }
          extracted.set(name, await placeTree(ctx, input, source(ctx.config.project, name), ctx.record.fingerprint[name]));
        },
        async fingerprint() {
          const counts = new Map<string, TreeCount>();
          for (const volume of saved) counts.set(volume.name, extracted.get(volume.name) ?? (await countSource(ctx, source(ctx.config.project, volume.name))));
          return treeFingerprint(counts);
        },
      };
    },
  };
}

export const volumesKind: ComponentKind<VolumesConfig> = {
  name: 'volumes',
  summary: 'named volumes of the compose project, copied by a helper container while their writers are stopped',
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['volumes']);
    return { volumes: textList(c.volumes, `${at}.volumes`) };
  },
  create: createVolumes,
};
