import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
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

/** A path refused for leaving its root: the same input fails every attempt. */
function leavesRoot(field: string, detail: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${field}: ${detail}`, 'InvalidReleaseInput');
}

/**
 * The real path of `path` as the kernel would follow it when writing there: links resolved, a dangling
 * link by its target, and whatever does not exist yet appended to its deepest existing ancestor.
 */
function realPathOf(path: string, hops = 0): string {
  try {
    return realpathSync(path);
  } catch {
    // Not there, or a link to something that is not there (yet): a write through it lands at its target.
  }
  const parent = dirname(path);
  if (parent === path) return path;
  const realParent = realPathOf(parent, hops);
  let target: string | undefined;
  try {
    target = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    target = undefined;
  }
  // 40 hops is the kernel's own limit; a longer chain is a loop nothing can be written through.
  if (target !== undefined && hops < 40) return realPathOf(resolve(realParent, target), hops + 1);
  return join(realParent, basename(path));
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * `relativePath` joined under `root`, refused when it would leave it: an
 * absolute path, a '..' segment, or a link on the way that points outside.
 */
export function insideRoot(root: string, relativePath: string, field: string): string {
  if (isAbsolute(relativePath) || relativePath.split(/[\\/]/).includes('..')) {
    throw leavesRoot(field, `'${relativePath.slice(0, 200)}' must be a relative path inside ${root}`);
  }
  const path = resolve(root, relativePath);
  if (!within(root, path) || !within(realPathOf(root), realPathOf(path))) {
    throw leavesRoot(field, `'${relativePath.slice(0, 200)}' leaves ${root} (through a link)`);
  }
  return path;
}

/**
 * The directories a manifest may make the worker write into (email.outbox, a
 * directory mirror): RELFLOW_LOCAL_ROOTS (':'-separated absolute paths), by
 * default the system temp directory and the worker's workspace.
 */
export function localRoots(env: NodeJS.ProcessEnv): string[] {
  const configured = (env.RELFLOW_LOCAL_ROOTS ?? '').split(':').filter(Boolean);
  if (configured.length > 0) return configured.map((root) => resolve(root));
  return [tmpdir(), ...(env.RELFLOW_WORKSPACE ? [resolve(env.RELFLOW_WORKSPACE)] : [])];
}

/** An absolute directory of the manifest, refused unless it is inside one of the worker's local roots (links resolved). */
export function localDirectory(env: NodeJS.ProcessEnv, path: string, field: string): string {
  const roots = localRoots(env);
  if (!isAbsolute(path) || !roots.some((root) => within(realPathOf(root), realPathOf(resolve(path))))) {
    throw leavesRoot(
      field,
      `${path} is outside the worker's local roots (${roots.join(', ')}); set RELFLOW_LOCAL_ROOTS on the worker to allow it`,
    );
  }
  return resolve(path);
}
