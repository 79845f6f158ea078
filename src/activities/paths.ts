import { ApplicationFailure } from '@temporalio/common';

/**
 * A name used as one directory of a path (a release ID, a repository or artifact
 * name): refused when it could leave its root ('/', '..', a leading '.' or '-').
 */
export function pathSegment(value: string, field: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(value) || value.includes('..')) {
    throw ApplicationFailure.nonRetryable(
      `${field}: '${String(value).slice(0, 80)}' cannot be a directory name (letters, digits, '.', '_', ':', '-')`,
      'InvalidReleaseInput',
    );
  }
  return value;
}
