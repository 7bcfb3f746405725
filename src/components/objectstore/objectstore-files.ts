// Mode "files" of the objectstore kind: a cold copy of the server's data
// folder (a named volume or a bind-mounted host folder), for servers whose
// on-disk layout is their own business. The server is not one of the
// services a cold backup keeps running, so the freeze window stops it with
// the writers and the folder is copied while nothing writes it; an in-place
// restore likewise refills the folder with the server stopped and starts it
// again afterwards. Some servers keep object metadata in extended
// attributes (versitygw's posix backend: content type, user metadata, ETag
// in user.* xattrs), which busybox tar drops, so the copy runs GNU tar in
// its own image (tree-helper.ts); the PAX records travel inside the member
// as tar bytes like any other. The fingerprint is the tree's count taken by
// that same helper in the same run: entries, bytes and every extended
// attribute (count and hash). It is not read through the S3 API: the server
// is stopped while the copy is taken, and once it runs again the writers do
// too, so objects they add would show as differences the copy never had.
import { ensureDir } from 'fs-extra/esm';
import type { ValueRef, Values } from '../../config/values.ts';
import type { TreeCount } from '../../docker/tree-helper.ts';
import { ConfigError, PreflightError, StackError } from '../../errors.ts';
import { type BackupContext, type BackupTask, type Component, type ComponentRecord, frozenIn, type Probe, type RestoreContext, type RestoreTask, type RunContext } from '../component.ts';
import { countSource, placeTree, stageTree, treeFingerprint, type TreeSource } from '../tree/tree-copy.ts';
import { composeVolumeLabels } from '../volumes/volumes-component.ts';

export const DEFAULT_FILES_IMAGE = 'hoss-local/gnutar:local';
const DATA = 'data';

export interface ObjectStoreFilesConfig {
  service: string;
  volume?: string;
  folder?: ValueRef;
  image: string;
}

export function createObjectStoreFiles(id: string, config: ObjectStoreFilesConfig, values: Values, probes: Probe[]): Component {
  const member = `${id}/${DATA}.tar`;
  const folder = config.folder ? values.path(config.folder, `the ${id} data folder`) : undefined;
  const volumeName = (project: string) => `${project}_${config.volume}`;
  const where = (project: string) => (config.volume ? `volume ${volumeName(project)}` : `folder ${folder ?? '(unset)'}`);
  const source = (ctx: RunContext): TreeSource => {
    if (config.volume) return { source: volumeName(ctx.config.project), label: `${id} volume ${volumeName(ctx.config.project)}`, xattrsImage: config.image };
    if (!folder) throw new ConfigError(`the ${id} data folder is not set (${JSON.stringify(config.folder)})`, { hint: `set it in ${values.envPath}` });
    return { source: folder, label: `${id} ${folder}`, xattrsImage: config.image };
  };

  // The copy is only cold while the server is stopped: a stack that lists it among the services kept running would copy a live folder.
  const requireStoppable = (ctx: RunContext) => {
    if (ctx.config.dataServices.includes(config.service)) {
      throw new ConfigError(`the ${id} object store copies the data folder of service "${config.service}" with the service stopped, but the stack keeps "${config.service}" running`, {
        hint: `remove ${config.service} from HOSSADM_DATA_SERVICES in ${ctx.config.envPath}`,
      });
    }
  };
  const requireImage = async (ctx: RunContext) => {
    if (!(await ctx.docker.imageExists(config.image))) {
      throw new PreflightError(`image ${config.image} (GNU tar for the ${id} data folder) is not on this host`, {
        hint: config.image === DEFAULT_FILES_IMAGE ? 'build it: compose/images/build gnutar' : `pull or build ${config.image}, or name another image with GNU tar and getfattr in the profile's "image"`,
      });
    }
  };

  return {
    id,
    kind: 'objectstore',
    planBackup: (stack) => [
      `copy the data folder of service ${config.service} (${config.volume ? `volume ${stack.project}_${config.volume}` : folder}) with its extended attributes, GNU tar in ${config.image}, into ${member} while ${config.service} is stopped with the writers (live with --hot)`,
    ],
    // Not kept running: the freeze window stops the server with the writers.
    keepRunning: () => [],
    hostPaths: () => (config.folder ? [{ what: `the ${id} data folder`, path: folder }] : []),
    restoresInto: () => (config.volume ? 'engine-storage' : 'host-folder'),
    probes: () => probes,

    async preflightBackup(ctx) {
      if (ctx.mode === 'cold') requireStoppable(ctx);
      await requireImage(ctx);
      if (config.volume && !(await ctx.docker.inspectVolume(volumeName(ctx.config.project)))) {
        throw new StackError(`volume ${volumeName(ctx.config.project)} (the ${id} object store's data) does not exist`, {
          hint: `check COMPOSE_PROJECT_NAME in ${ctx.config.envPath} and the "volume" of ${id} in the profile, or bring the stack up once`,
        });
      }
      return { versions: {}, estimatedBytes: (await countSource(ctx, source(ctx))).bytes };
    },

    backup(ctx: BackupContext): BackupTask {
      let count: TreeCount | undefined;
      const copy = async () => {
        count = await stageTree(ctx, id, member, source(ctx));
      };
      // The server mounts its data folder, so it is one of the writers stopped while the folder is copied.
      const data = config.volume ? volumeName(ctx.config.project) : folder;
      return {
        ...frozenIn([{ label: `${id} ${where(ctx.config.project)}`, mounts: data ? [data] : [], run: copy }]),
        async finish(): Promise<ComponentRecord> {
          return {
            details: { service: config.service, ...(config.volume ? { volume: config.volume } : { folder }), image: config.image },
            fingerprint: treeFingerprint(new Map([[DATA, count!]])),
            live: ctx.mode === 'hot',
          };
        },
      };
    },

    restore(ctx: RestoreContext): RestoreTask {
      let extracted: TreeCount | undefined;
      return {
        describe: async () => [
          `${id}: ${where(ctx.config.project)} of service ${config.service} emptied and refilled from ${member} with its extended attributes (GNU tar in ${config.image}), ${ctx.situation === 'fresh' ? 'before the server starts' : 'with the server stopped, then started again'}`,
        ],
        async preflight() {
          if (ctx.situation === 'in-place') requireStoppable(ctx);
          source(ctx);
          await requireImage(ctx);
        },
        async receive(name, input) {
          if (name !== member) throw new StackError(`archive member ${name} is not the ${id} data folder (${member})`);
          if (config.volume) {
            const volume = volumeName(ctx.config.project);
            if (!(await ctx.docker.inspectVolume(volume))) await ctx.docker.createVolume(volume, composeVolumeLabels(ctx.config.project, config.volume));
          } else {
            // Made here, owner-only, rather than by the engine as root on the first bind mount; the archived folder's own mode is set by tar.
            await ensureDir(folder!, { mode: 0o700 });
          }
          extracted = await placeTree(ctx, input, source(ctx), ctx.record.fingerprint[DATA]);
        },
        async fingerprint() {
          return treeFingerprint(new Map([[DATA, extracted ?? (await countSource(ctx, source(ctx)))]]));
        },
      };
    },
  };
}
