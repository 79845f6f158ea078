/**
 * A name that becomes a workflow ID or one directory of a path (a release ID,
 * a repository or artifact name): letters, digits, '.', '_', ':' and '-', at
 * most 200, never '..' and never a leading '.' or '-'. Release IDs started by a
 * Schedule carry its timestamp, hence ':'.
 */
export function isSafeName(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(value) && !value.includes('..');
}
