// Named volumes (auth secrets, LDAP database and config, RabbitMQ data):
// each is copied through a helper container (tree/tree-copy.ts) while the
// services that write it are stopped, and refilled from scratch on restore.
// The helper is GNU tar in the configured tar image when this host has that
// image (sparse files such as LDAP's 1 GiB map are then neither read nor
// written in full), else busybox tar in the stack's helper image; members
// written by either restore with either (tree/sparse-expand.ts).
import { StackError } from '../../errors.ts';
import type { TreeCount } from '../../docker/tree-helper.ts';
import { object, onlyKeys, optionalText, textList } from '../../config/shape.ts';
import type { Values } from '../../config/values.ts';
import { type BackupContext, type BackupTask, type Component, type ComponentRecord, frozenIn, type RestoreContext, type RestoreTask, type RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { countSource, placeTree, requireHelperImage, stageTree, treeFingerprint } from '../tree/tree-copy.ts';

export interface VolumesConfig {
  /** Volume names as the compose files write them; the engine's names carry the project prefix. */
  volumes: string[];
  /** An image with GNU tar, used when present on the host (HOSSADM_TAR_IMAGE in .env replaces it, "none" turns it off). */
  tarImage?: string;
}

/** The image with GNU tar this run copies volumes with, or undefined for busybox in the helper image (no image wanted, or not on this host). */
export async function chooseTarImage(docker: Pick<RunContext['docker'], 'imageExists'>, wanted: string | undefined): Promise<string | undefined> {
  if (!wanted || wanted === 'none') return undefined;
  return (await docker.imageExists(wanted)) ? wanted : undefined;
}

/** Compose adopts a volume it did not create only when it carries compose's labels. */
export function composeVolumeLabels(project: string, volume: string): Record<string, string> {
  return { 'com.docker.compose.project': project, 'com.docker.compose.volume': volume, 'com.docker.compose.version': '1.29.2' };
}

function createVolumes(id: string, config: VolumesConfig, values: Values): Component {
  // HOSSADM_VOLUMES in .env narrows the list (a stack that does not deploy every service).
  const override = values.vars.HOSSADM_VOLUMES?.split(/[,\s]+/).filter(Boolean);
  const volumes = override && override.length > 0 ? override : config.volumes;
  const wantedTarImage = values.vars.HOSSADM_TAR_IMAGE?.trim() || config.tarImage;
  const memberName = (volume: string) => `${id}/${volume}.tar`;
  const dockerName = (project: string, volume: string) => `${project}_${volume}`;
  // Chosen once per run, so a backup's count, copies and record agree.
  const chosen = new Map<string, Promise<string | undefined>>();
  const tarImage = (ctx: RunContext) => {
    let image = chosen.get(ctx.runId);
    if (!image) {
      image = chooseTarImage(ctx.docker, wantedTarImage);
      chosen.set(ctx.runId, image);
    }
    return image;
  };
  const source = async (ctx: RunContext, volume: string) => {
    const image = await tarImage(ctx);
    return { source: dockerName(ctx.config.project, volume), label: `volume ${dockerName(ctx.config.project, volume)}`, ...(image ? { sparseImage: image } : {}) };
  };
  const helperLine = (helperImage: string) =>
    wantedTarImage && wantedTarImage !== 'none' ? `GNU tar in ${wantedTarImage} (busybox in ${helperImage} when that image is not on this host)` : `a ${helperImage} helper`;

  return {
    id,
    kind: 'volumes',
    planBackup: (stack) => volumes.map((v) => `copy volume ${dockerName(stack.project, v)} with ${helperLine(stack.helperImage)} into ${memberName(v)}`),
    keepRunning: () => [],
    hostPaths: () => [],
    restoresInto: () => 'engine-storage',
    probes: () => [],

    async preflightBackup(ctx) {
      if (!(await tarImage(ctx))) await requireHelperImage(ctx);
      for (const volume of volumes) {
        if (!(await ctx.docker.inspectVolume(dockerName(ctx.config.project, volume)))) {
          throw new StackError(`volume ${dockerName(ctx.config.project, volume)} does not exist`, {
            hint: `check COMPOSE_PROJECT_NAME and HOSSADM_VOLUMES in ${ctx.config.envPath}, or bring the stack up once`,
          });
        }
      }
      let estimatedBytes = 0;
      for (const volume of volumes) estimatedBytes += (await countSource(ctx, await source(ctx, volume))).bytes;
      return { versions: {}, estimatedBytes };
    },

    backup(ctx: BackupContext): BackupTask {
      const counts = new Map<string, TreeCount>();
      // One unit a volume: a cold backup stops each volume's own writers only while it is copied.
      const units = volumes.map((volume) => ({
        label: `volume ${dockerName(ctx.config.project, volume)}`,
        mounts: [dockerName(ctx.config.project, volume)],
        run: async () => {
          counts.set(volume, await stageTree(ctx, id, memberName(volume), await source(ctx, volume)));
        },
      }));
      return {
        ...frozenIn(units),
        async finish(): Promise<ComponentRecord> {
          // Which tar wrote the members: for an operator reading the manifest; a restore reads either.
          const tar = (await tarImage(ctx)) ? 'gnu-sparse' : 'busybox';
          return { details: { volumes: volumes.map((v) => ({ name: v, member: memberName(v) })), tar }, fingerprint: treeFingerprint(counts), live: ctx.mode === 'hot' };
        },
      };
    },

    restore(ctx: RestoreContext): RestoreTask {
      const saved = (ctx.record.details.volumes ?? []) as { name: string; member: string }[];
      const byMember = new Map(saved.map((v) => [v.member, v.name]));
      const extracted = new Map<string, TreeCount>();
      return {
        describe: async () => saved.map((v) => `volume ${dockerName(ctx.config.project, v.name)}: emptied and refilled from ${v.member}`),
        preflight: async () => {
          if (!(await tarImage(ctx))) await requireHelperImage(ctx);
        },
        async receive(member, input) {
          const name = byMember.get(member);
          if (!name) throw new StackError(`archive member ${member} names no volume of the manifest`);
          if (!(await ctx.docker.inspectVolume(dockerName(ctx.config.project, name)))) {
            await ctx.docker.createVolume(dockerName(ctx.config.project, name), composeVolumeLabels(ctx.config.project, name));
          }
          extracted.set(name, await placeTree(ctx, input, await source(ctx, name), ctx.record.fingerprint[name]));
        },
        async fingerprint() {
          const counts = new Map<string, TreeCount>();
          for (const volume of saved) counts.set(volume.name, extracted.get(volume.name) ?? (await countSource(ctx, await source(ctx, volume.name))));
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
    onlyKeys(c, at, ['volumes', 'tarImage']);
    const tarImage = optionalText(c.tarImage, `${at}.tarImage`);
    return { volumes: textList(c.volumes, `${at}.volumes`), ...(tarImage ? { tarImage } : {}) };
  },
  create: createVolumes,
};
