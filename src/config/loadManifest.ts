import { readSmallFileBytes, SmallFileProblem } from './smallFile';
import { parseDocument } from 'yaml';
import { UserError } from './errors';
import type { Manifest } from './manifest';
import { ManifestError, validateManifest } from './validate';

export { formatPath, ManifestError, validateManifest } from './validate';
export type { ManifestProblem } from './validate';

export function parseManifest(text: string, file: string): Manifest {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ManifestError(
      file,
      document.errors.map((error) => ({ path: '', message: `invalid YAML: ${error.message.split('\n')[0]}` })),
    );
  }
  let value: unknown;
  try {
    // An alias bomb (aliases of aliases) would expand to billions of nodes: refuse it.
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ManifestError(file, [{ path: '', message: `invalid YAML: ${(error as Error).message.split('\n')[0]}` }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ManifestError(file, [{ path: '', message: 'expected a YAML mapping with product, versions and repositories' }]);
  }
  return validateManifest(value, file);
}

/** A manifest is a page of YAML: anything larger (or a device such as /dev/zero) is not one. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * A manifest's bytes as text. YAML is UTF-8 here: bytes that are not would become U+FFFD
 * silently and reach a command line changed, so they are refused with the line they are on.
 */
export function manifestText(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const valid = new TextDecoder('utf-8').decode(bytes);
    const at = valid.indexOf('\uFFFD');
    const line = valid.slice(0, at).split('\n').length;
    throw new UserError(`${file}: line ${line}: bytes that are not UTF-8; a manifest is UTF-8 text`);
  }
}

/** A manifest file's text: a regular file of at most 1 MiB, or an error that names the file. */
export function readManifestText(file: string): string {
  try {
    return manifestText(readSmallFileBytes(file, MAX_MANIFEST_BYTES), file);
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (!(error instanceof SmallFileProblem)) throw error;
    if (error.kind === 'not-regular') throw new UserError(`${file}: not a regular file; expected a YAML manifest`);
    if (error.kind === 'too-large') throw new UserError(`${file}: ${error.message}; a manifest is at most ${MAX_MANIFEST_BYTES} bytes`);
    throw new UserError(`${file}: cannot read the manifest (${error.message})`);
  }
}

export function loadManifest(file: string): Manifest {
  return parseManifest(readManifestText(file), file);
}
