// The kinds of target hossadm knows, by URL scheme (s3://, sftp://). Each
// kind registers how it opens a target from its URL and the environment;
// commands open targets only through openTarget, so they never name a kind.
import { UsageError } from '../errors.ts';
import type { Target } from './target.ts';

export type Environment = Record<string, string | undefined>;

export interface TargetKind {
  /** The URL scheme without "://" (s3, sftp). */
  scheme: string;
  /** How its URLs look, for messages. */
  example: string;
  /** Opens the target; `warn` takes progress lines (a retry coming). */
  open(url: string, env: Environment, warn: (message: string) => void): Promise<Target>;
}

const kinds = new Map<string, TargetKind>();

export function registerTargetKind(kind: TargetKind): void {
  kinds.set(kind.scheme, kind);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//;

/** True for text written as a target URL (scheme://...), so a command can tell it from a local path. */
export function isTargetUrl(text: string): boolean {
  return SCHEME.test(text);
}

export function targetKindOf(url: string): TargetKind {
  const scheme = SCHEME.exec(url)?.[1];
  const kind = scheme === undefined ? undefined : kinds.get(scheme);
  if (!kind) {
    const known = [...kinds.values()].map((k) => k.example).join(' or ');
    throw new UsageError(`"${url}" is not a target hossadm knows`, { hint: `write it as ${known}` });
  }
  return kind;
}

export async function openTarget(url: string, env: Environment, warn: (message: string) => void = () => undefined): Promise<Target> {
  return targetKindOf(url).open(url, env, warn);
}

/**
 * "<target>/<archive name>" split in two (restore, verify): the last path
 * segment is the archive's name when it looks like one (<prefix>-<stamp>.tar…)
 * or is "latest".
 */
export function splitArchiveUrl(url: string): { target: string; name: string } | undefined {
  const cut = url.lastIndexOf('/');
  if (!isTargetUrl(url) || cut <= url.indexOf('://') + 2) return undefined;
  const name = url.slice(cut + 1);
  // The endings hossadm writes (catalog.ts): a side file such as <archive>.sha256 is not an archive.
  if (name !== 'latest' && !/^[a-z0-9][a-z0-9-]*-\d{8}T\d{6}Z\.tar(\.zst|\.gz)?(\.age)?$/.test(name)) return undefined;
  return { target: url.slice(0, cut), name };
}
