/**
 * A name that becomes a workflow ID or one directory of a path (a release ID,
 * a repository or artifact name): letters, digits, '.', '_', ':' and '-', at
 * most 200, never '..' and never a leading '.' or '-'. Release IDs started by a
 * Schedule carry its timestamp, hence ':'.
 */
export function isSafeName(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(value) && !value.includes('..');
}

/** The rules of git check-ref-format for a branch or tag name, plus no leading dash (never an option). */
export function isGitRefName(name: string): boolean {
  return !(
    name.length === 0 ||
    name.startsWith('-') ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.endsWith('.') ||
    name.endsWith('.lock') ||
    name.includes('..') ||
    name.includes('@{') ||
    name.includes('//') ||
    name === '@' ||
    // eslint-disable-next-line no-control-regex -- git refuses control characters in ref names; so do we
    /[\x00-\x20\x7f~^:?*[\\]/.test(name) ||
    name.split('/').some((part) => part.startsWith('.'))
  );
}

/**
 * An output pattern a build machine can take: its shell command line quotes it
 * as a find expression, so only letters, digits and . _ / - * ? are allowed.
 */
export function isMachineOutputPattern(pattern: string): boolean {
  return /^[A-Za-z0-9._/*?-]+$/.test(pattern);
}
