import type { Manifest } from '../config/manifest';
import { ManifestError } from '../config/validate';
import { ruleIdempotenceProblems } from './ruleCheck';
import { storedNameProblems } from './storedNamesCheck';

/** What validate, plan and the preflight find wrong in a manifest before any repository is read: rules, layouts, outputs. */
export function manifestProblems(manifest: Manifest): string[] {
  return [...ruleIdempotenceProblems(manifest), ...storedNameProblems(manifest)];
}

/** `relflow validate` and `relflow plan`: every problem named, against the file, before anything is read or written. */
export function refuseManifestProblems(manifest: Manifest, file: string): void {
  const problems = manifestProblems(manifest);
  if (problems.length > 0)
    throw new ManifestError(
      file,
      problems.map((message) => ({ path: '', message })),
    );
}
