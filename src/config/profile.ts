// A stack profile describes one kind of stack as data: stack-level fields
// (where its config folder is, how its project and backup root are named,
// which file says "this host already has the stack") and an ordered list of
// configured component instances, each of a registered kind. Adding a stack
// means adding a profile; adding an engine means adding a kind.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { kindNamed } from '../components/index.ts';
import { FREEZE_MODES, type FreezeMode } from '../components/component.ts';
import { ConfigError } from '../errors.ts';
import { object, optionalText, text, textList } from './shape.ts';

/** One configured instance: its settings were checked by its kind when the profile was loaded. */
export interface ComponentSpec {
  id: string;
  kind: string;
  config: unknown;
}

export interface Profile {
  name: string;
  description: string;
  /** The variable naming the config folder (HOSS_DIR), also usable in templates. */
  configDirVariable: string;
  defaultConfigDir: string;
  defaultProject: string;
  versionVariable: string;
  /** The file in the config folder whose presence means the stack is installed here (a restore then goes in place). */
  marker: string;
  /** Archives are named <prefix>-<UTC stamp>.tar[.zst|.gz]. */
  archivePrefix: string;
  backupRootDefault: string;
  helperImage: string;
  components: ComponentSpec[];
  /** Instances a backup leaves out unless told otherwise (`backup --with ID` takes one in). */
  backupWithout: string[];
  /** How a cold backup stops the writers (default per-service); `stack` where the services' data must be one point in time. */
  freeze?: FreezeMode;
  /** What `upgrade` needs to know of this kind of stack; optional, every part has a default. */
  upgrade?: UpgradeProfile;
}

/** A command run in a service's container after an upgrade; it passes when it exits 0. */
export interface ServiceCheck {
  name: string;
  service: string;
  argv: string[];
}

export interface UpgradeProfile {
  /** A file beside the stack's first compose file naming the version those files are for (the default target of `upgrade`). */
  versionFile?: string;
  /** Notes shown before upgrading to a version, beside the compose files; {version} is replaced. */
  notesFile?: string;
  /** Services that must report "healthy" (not merely run) after an upgrade. */
  healthyServices?: string[];
  checks?: ServiceCheck[];
}

export const profilesDir = fileURLToPath(new URL('../../templates/profiles/', import.meta.url));

const ID = /^[a-z][a-z0-9-]{0,39}$/;
const PREFIX = /^[a-z0-9][a-z0-9-]*$/;

function parseComponents(value: unknown): ComponentSpec[] {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError('stack profile: "components" must be a non-empty list');
  const seen = new Set<string>();
  return value.map((raw: unknown, index) => {
    const at = `components[${index}]`;
    const entry = object(raw, at);
    const id = text(entry.id, `${at}.id`);
    if (!ID.test(id)) throw new ConfigError(`stack profile: "${at}.id" "${id}" must be lowercase letters, digits and "-", starting with a letter`);
    if (seen.has(id)) throw new ConfigError(`stack profile: component id "${id}" is used twice`);
    seen.add(id);
    const kind = kindNamed(text(entry.kind, `${at}.kind`), `${at}.kind`);
    return { id, kind: kind.name, config: kind.parse(entry.config ?? {}, `${at}.config`) };
  });
}

function parseUpgrade(value: unknown): UpgradeProfile {
  const u = object(value, 'upgrade');
  const upgrade: UpgradeProfile = {};
  const versionFile = optionalText(u.versionFile, 'upgrade.versionFile');
  const notesFile = optionalText(u.notesFile, 'upgrade.notesFile');
  if (versionFile) upgrade.versionFile = versionFile;
  if (notesFile) upgrade.notesFile = notesFile;
  if (u.healthyServices !== undefined) upgrade.healthyServices = textList(u.healthyServices, 'upgrade.healthyServices');
  if (u.checks !== undefined) {
    if (!Array.isArray(u.checks)) throw new ConfigError('stack profile: "upgrade.checks" must be a list');
    upgrade.checks = u.checks.map((raw: unknown, index) => {
      const c = object(raw, `upgrade.checks[${index}]`);
      return { name: text(c.name, `upgrade.checks[${index}].name`), service: text(c.service, `upgrade.checks[${index}].service`), argv: textList(c.argv, `upgrade.checks[${index}].argv`, true) };
    });
  }
  return upgrade;
}

/** Checks every field and every instance's settings, so a bad profile fails at load, not halfway through a run. */
export function validateProfile(raw: unknown): Profile {
  const p = object(raw, '(root)');
  const archivePrefix = text(p.archivePrefix ?? `${String(p.name)}-backup`, 'archivePrefix');
  if (!PREFIX.test(archivePrefix)) throw new ConfigError(`stack profile: "archivePrefix" "${archivePrefix}" must be lowercase letters, digits and "-"`);
  const profile: Profile = {
    name: text(p.name, 'name'),
    description: typeof p.description === 'string' ? p.description : '',
    configDirVariable: text(p.configDirVariable, 'configDirVariable'),
    defaultConfigDir: text(p.defaultConfigDir, 'defaultConfigDir'),
    defaultProject: text(p.defaultProject, 'defaultProject'),
    versionVariable: text(p.versionVariable, 'versionVariable'),
    marker: text(p.marker ?? '.env', 'marker'),
    archivePrefix,
    backupRootDefault: text(p.backupRootDefault, 'backupRootDefault'),
    helperImage: text(p.helperImage, 'helperImage'),
    components: parseComponents(p.components),
    backupWithout: p.backupWithout === undefined ? [] : textList(p.backupWithout, 'backupWithout'),
  };
  for (const id of profile.backupWithout) {
    if (!profile.components.some((c) => c.id === id)) throw new ConfigError(`stack profile: "backupWithout" names "${id}", which is no component of the profile`);
  }
  if (p.freeze !== undefined) {
    if (!FREEZE_MODES.includes(p.freeze as FreezeMode)) throw new ConfigError(`stack profile: "freeze" must be one of ${FREEZE_MODES.join(', ')}, not ${JSON.stringify(p.freeze)}`);
    profile.freeze = p.freeze as FreezeMode;
  }
  if (p.upgrade !== undefined) profile.upgrade = parseUpgrade(p.upgrade);
  return profile;
}

export async function loadProfile(name: string, dir = profilesDir): Promise<Profile> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new ConfigError(`stack profile name "${name}" is not a plain name`);
  let text: string;
  try {
    text = await readFile(`${dir}/${name}.json`, 'utf8');
  } catch (error) {
    throw new ConfigError(`unknown stack profile "${name}"`, { hint: `choose one of the files in ${dir}`, cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`stack profile ${name}.json is not valid JSON`, { cause: error });
  }
  return validateProfile(raw);
}
