import { isSafeName } from '../config/names';
import { validateManifest } from '../config/validate';
import type { ReleaseRequest } from './model';
import { isReleaseKind, RELEASE_KINDS } from './version';

/**
 * What is wrong with a release request as any client may send it (the CLI
 * checks the same before it starts one): undefined when it may run.
 */
export function requestProblem(request: unknown, releaseId: string): string | undefined {
  if (!isSafeName(releaseId)) {
    return `release ID '${String(releaseId).slice(0, 80)}': expected letters, digits, '.', '_', ':' and '-' (at most 200), e.g. cloudify-3.4`;
  }
  if (typeof request !== 'object' || request === null) return 'the release request must be an object with manifest and kind';
  const { kind, manifest } = request as Partial<ReleaseRequest>;
  if (typeof kind !== 'string' || !isReleaseKind(kind)) return `kind: expected one of ${RELEASE_KINDS.join(', ')}`;
  try {
    validateManifest(manifest, 'manifest');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}
