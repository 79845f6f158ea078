import { validateManifest } from '../config/validate';
import type { ReleaseRequest } from './model';
import { isReleaseKind, RELEASE_KINDS } from './version';

/** Release IDs become directory names and workflow IDs: letters, digits, '.', '_' and '-', never '..'. */
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/**
 * What is wrong with a release request as any client may send it (the CLI
 * checks the same before it starts one): undefined when it may run.
 */
export function requestProblem(request: unknown, releaseId: string): string | undefined {
  if (!RELEASE_ID.test(releaseId) || releaseId.includes('..')) {
    return `release ID '${releaseId.slice(0, 80)}': expected letters, digits, '.', '_', ':' and '-' (at most 200), e.g. cloudify-3.4`;
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
