import { isGitRefName, isSafeName } from '../config/names';
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
  const { kind, manifest, manifestRef } = request as Partial<ReleaseRequest>;
  if (typeof kind !== 'string' || !isReleaseKind(kind)) return `kind: expected one of ${RELEASE_KINDS.join(', ')}`;
  if (manifestRef !== undefined)
    return manifest !== undefined ? 'send either manifest or manifestRef, not both' : manifestRefProblem(manifestRef);
  try {
    validateManifest(manifest, 'manifest');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

/** What is wrong with a manifest reference: a relative .yaml path of the trusted source, a git ref, a sha256. */
function manifestRefProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null) return 'manifestRef: expected {"name": "cloudify.yaml"}';
  const { name, ref: at, sha256 } = ref as Record<string, unknown>;
  if (
    typeof name !== 'string' ||
    name.length > 200 ||
    !/^[A-Za-z0-9._/-]+\.ya?ml$/.test(name) ||
    name.startsWith('/') ||
    name.startsWith('-') ||
    name.split('/').includes('..')
  )
    return `manifestRef.name '${String(name).slice(0, 80)}': expected a relative path of a .yaml file in the trusted manifest source`;
  if (at !== undefined && (typeof at !== 'string' || at.startsWith('-') || !isGitRefName(at)))
    return `manifestRef.ref '${String(at).slice(0, 80)}': expected a branch or tag name`;
  if (sha256 !== undefined && (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)))
    return 'manifestRef.sha256: expected 64 hex digits';
  return undefined;
}
