import { ApplicationFailure } from '@temporalio/common';
import { isSafeName } from '../config/names';

/**
 * A name used as one directory of a path (a release ID, a repository or artifact
 * name): refused when it could leave its root ('/', '..', a leading '.' or '-').
 */
export function pathSegment(value: string, field: string): string {
  if (!isSafeName(value)) {
    throw ApplicationFailure.nonRetryable(
      `${field}: '${String(value).slice(0, 80)}' cannot be a directory name (letters, digits, '.', '_', ':', '-')`,
      'InvalidReleaseInput',
    );
  }
  return value;
}
