// Which member names an archive may hold. The same rule guards writing and
// reading, so nothing hossadm writes is refused by its own reader, and
// nothing read can point outside the folder a member is restored into.

/** Longest name accepted, in UTF-8 bytes (PATH_MAX on Linux). */
export const MEMBER_NAME_MAX_BYTES = 4096;

// Such a name has no UTF-8 form, so it could not be written as it reads.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `name` is not a safe relative member name, or undefined when it is. */
export function memberNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name, 'utf8') > MEMBER_NAME_MAX_BYTES) return 'is too long';
  if (name.startsWith('/')) return 'is absolute';
  if (name.includes('\\')) return 'contains a backslash';
  // C0 controls (NUL included) and DEL: invisible in messages, unsafe in shells.
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  if (LONE_SURROGATE.test(name)) return 'is not valid Unicode';
  for (const segment of name.split('/')) {
    if (segment === '..') return "contains '..'";
    if (segment === '' || segment === '.') return 'has an empty or "." path segment';
  }
  return undefined;
}
