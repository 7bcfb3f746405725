// A host folder of the stack, copied through a helper container with owners,
// modes, links and times exact: the configuration folder (only the entries
// the profile lists, so data folders and BACKUP_ROOT inside it stay out) or
// a bind-mounted data folder such as TheHive's file storage (all of it,
// copied while the services that write it are stopped).
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from 'fs-extra/esm';
import type { TreeCount } from '../../docker/tree-helper.ts';
import { ConfigError } from '../../errors.ts';
import { bool, object, onlyKeys, textList } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { type BackupContext, type BackupTask, type Component, type ComponentRecord, frozenIn, type RestoreContext, type RestoreTask } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { countSource, placeTree, requireHelperImage, stageTree, type TreeSource } from '../tree/tree-copy.ts';

export interface FolderConfig {
  root: ValueRef;
  /** Only these entries of the folder (default: the whole folder). */
  entries?: string[];
  /** Entries that must exist for a backup to start (the .env of a config folder). */
  required: string[];
  /** Copied while the writing services are stopped (data), rather than before (configuration). */
  frozen: boolean;
}

const TREE_MEMBER = 'tree.tar';

function createFolder(id: string, config: FolderConfig, values: Values): Component {
  const root = values.path(config.root, `the ${id} folder`);
  const member = `${id}/${TREE_MEMBER}`;
  const folder = (): string => {
    if (!root) throw new ConfigError(`the ${id} folder is not set (${JSON.stringify(config.root)})`, { hint: `set it in ${values.envPath}` });
    return root;
  };
  const existing = async (): Promise<string[] | undefined> => {
    if (!config.entries) return undefined;
    const found: string[] = [];
    // Absent entries are normal: not every deployment has every service.
    for (const entry of config.entries) if (await lstat(join(folder(), entry)).then(() => true, () => false)) found.push(entry);
    return found;
  };
  const source = (entries: string[] | undefined): TreeSource => ({ source: folder(), label: `${id} ${folder()}`, ...(entries ? { entries } : {}) });
  const fingerprintOf = (count: TreeCount) => ({ [id]: { entries: count.entries, bytes: count.bytes } });

  return {
    id,
    kind: 'folder',
    planBackup: () => [`copy ${config.entries ? `${config.entries.join(', ')} from ` : ''}${root ?? '(unset)'}${config.entries ? ' (those that exist)' : ''} into ${member}${config.frozen ? ' while writers are stopped' : ''}`],
    keepRunning: () => [],
    hostPaths: () => [{ what: `the ${id} folder`, path: root }],
    restoresInto: () => 'host-folder',
    probes: () => [],

    async preflightBackup(ctx) {
      await requireHelperImage(ctx);
      for (const entry of config.required) {
        if (!(await lstat(join(folder(), entry)).then(() => true, () => false))) throw new ConfigError(`${join(folder(), entry)} is missing`);
      }
      if (!config.frozen) return { versions: {}, estimatedBytes: 0 };
      const count = await countSource(ctx, source(await existing()));
      return { versions: {}, estimatedBytes: count.bytes };
    },

    backup(ctx: BackupContext): BackupTask {
      let entries: string[] | undefined;
      let count: TreeCount | undefined;
      const copy = async () => {
        entries = await existing();
        count = await stageTree(ctx, id, member, source(entries));
      };
      return {
        // A data folder is copied with the writers that bind-mount it stopped.
        ...(config.frozen ? frozenIn([{ label: `${id} ${root ?? '(unset)'}`, mounts: root ? [root] : [], run: copy }]) : { prepare: copy }),
        async finish(): Promise<ComponentRecord> {
          return { details: { root: folder(), ...(entries ? { entries } : {}) }, fingerprint: fingerprintOf(count!), live: config.frozen && ctx.mode === 'hot' };
        },
      };
    },

    restore(ctx: RestoreContext): RestoreTask {
      const entries = ctx.record.details.entries as string[] | undefined;
      let extracted: TreeCount | undefined;
      return {
        describe: async () => [`folder ${root ?? '(unset)'}: ${entries ? `${entries.join(', ')} replaced` : 'emptied and refilled'} from the archive`],
        preflight: async () => {
          folder();
          await requireHelperImage(ctx);
        },
        async receive(_member, input) {
          // Made here, owner-only, rather than by the engine as root on the first bind mount.
          await ensureDir(folder(), { mode: 0o700 });
          extracted = await placeTree(ctx, input, source(entries), ctx.record.fingerprint[id]);
        },
        async fingerprint() {
          return fingerprintOf(extracted ?? (await countSource(ctx, source(entries))));
        },
      };
    },
  };
}

export const folderKind: ComponentKind<FolderConfig> = {
  name: 'folder',
  summary: 'a host folder (configuration or bind-mounted data), copied by a helper container with owners, modes, links and times',
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['root', 'entries', 'required', 'frozen']);
    return {
      root: parseValueRef(c.root, `${at}.root`),
      ...(c.entries === undefined ? {} : { entries: textList(c.entries, `${at}.entries`) }),
      required: c.required === undefined ? [] : textList(c.required, `${at}.required`),
      frozen: bool(c.frozen, `${at}.frozen`, false),
    };
  },
  create: createFolder,
};
