/** What every builder does with a build's outputs: match them by pattern, store them, record them, find them again. */
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { StoredFile } from '../../release/model';
import { holdsReleaseKey, signedByReleaseKey, signWithReleaseKey } from '../releaseSigning';
import { isStoredEverywhere, readStoredText, storedFileOf, storeFile, writeStoredText } from '../storage';
import type { BuildRequest } from './types';

/**
 * `*` matches within a path segment, `**` across segments, `?` one character.
 * The expression reads the same as a JavaScript and a POSIX extended regular expression.
 */
function globExpression(pattern: string): string {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return `^${source}$`;
}

export function globToRegExp(pattern: string): RegExp {
  return new RegExp(globExpression(pattern));
}

/**
 * The files under `dir` (not in .git) whose relative path matches one of the
 * patterns, the same on the worker and on a build machine (machineOutputList).
 * Directories are walked without following links; a match must be a regular
 * file inside `dir`: a symbolic link (to /proc/self/environ, to a key), a
 * device or a FIFO fails the build, naming the output.
 */
export function expandOutputs(dir: string, patterns: string[], artifact: string): string[] {
  const matchers = patterns.map(globToRegExp);
  const root = realpathSync(dir);
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = join(current, entry.name);
      const name = relative(dir, path);
      if (entry.isDirectory()) walk(path);
      else if (matchers.some((matcher) => matcher.test(name))) {
        const kind = entry.isFile()
          ? undefined
          : entry.isSymbolicLink()
            ? `a symbolic link to ${readlinkSync(path)}`
            : 'not a regular file';
        if (kind || !realpathSync(path).startsWith(`${root}/`)) {
          throw ApplicationFailure.nonRetryable(
            `${artifact}: output ${name} is ${kind ?? 'outside the build directory'}; build outputs must be regular files in the build directory`,
            'InvalidOutput',
          );
        }
        found.push(path);
      }
    }
  };
  walk(dir);
  return [...new Set(found)].sort();
}

/**
 * The shell command a build machine runs in its checkout to list its outputs
 * into `list` with the worker's glob semantics (globToRegExp as POSIX extended
 * regular expressions; find never follows a link), each as ./path so that no
 * name reads as an option to tar. A match that is not a regular file fails it.
 * Patterns are isMachineOutputPattern's: their expressions hold no quote.
 */
export function machineOutputList(patterns: string[], list: string): string {
  const expressions = patterns.map((pattern) => `-e '${globExpression(pattern)}'`).join(' ');
  const matching = (test: string) => `find . -path ./.git -prune -o ${test} -print | sed 's|^\\./||' | grep -E ${expressions}`;
  return [
    `others=$(${matching('! -type f ! -type d')})`,
    `if [ -n "$others" ]; then echo "outputs that are not regular files: $others"; false; else ${matching('-type f')} | sed 's|^|./|' > "${list}"; true; fi`,
  ].join('; ');
}

/** The namespace of build record signatures: no other signature of the release key passes for one. */
const BUILD_RECORD_NAMESPACE = 'relflow-build-record';

/** Which build a record is of: the release's key prefix, the artifact and the commit. */
export interface BuildRecordTarget {
  storage: BuildRequest['storage'];
  keyPrefix: string;
  artifact: { name: string };
  sha: string;
}

/** What a finished build stored, kept beside the release's files: one record per artifact and commit. */
function buildRecordKey(request: BuildRecordTarget): string {
  return `${request.keyPrefix}.relflow-builds/${request.artifact.name}/built-${request.sha}.json`;
}

/**
 * Records what a build stored, and signs the record where this worker holds
 * the release key. A build worker without the key records it unsigned; the
 * release worker signs it from the build's result (the child's, through
 * Temporal), never from what the bucket says.
 */
export async function recordBuild(request: BuildRecordTarget, stored: StoredFile[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const record = `${JSON.stringify(stored, null, 2)}\n`;
  await writeStoredText(request.storage, buildRecordKey(request), record, env);
  const signed = await signWithReleaseKey(`the build record of ${request.artifact.name}`, record, env, BUILD_RECORD_NAMESPACE);
  if (signed) await writeStoredText(request.storage, `${buildRecordKey(request)}.sig`, signed.signature.toString('utf8'), env);
  return signed !== undefined;
}

/** Stores the files a build left (on the store and every mirror) and records them; a build that left none of its outputs fails. */
export async function storeBuildOutputs(request: BuildRequest, paths: string[], env: NodeJS.ProcessEnv): Promise<StoredFile[]> {
  if (paths.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `${request.artifact.name}: the build left none of ${request.artifact.outputs.join(', ')}`,
      'BuildOutputMissing',
    );
  }
  const byName = new Map<string, string>();
  for (const path of paths) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const other = byName.get(file);
    if (other && other !== path) {
      throw ApplicationFailure.nonRetryable(
        `${request.artifact.name}: outputs ${other} and ${path} would be stored under the same name ${file}; make artifacts[].outputs match one of them`,
        'InvalidArtifact',
      );
    }
    byName.set(file, path);
  }
  const stored: StoredFile[] = [];
  for (const path of [...new Set(paths)]) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const result = await storeFile(
      {
        storage: request.storage,
        release: request.release ?? request.releaseId,
        name: request.artifact.name,
        key: `${request.keyPrefix}${file}`,
        path,
      },
      env,
    );
    stored.push(storedFileOf(result));
  }
  await recordBuild(request, stored, env);
  return stored;
}

/**
 * The files of an earlier build of this artifact from the same commit, when
 * every one is still in place with the same bytes on every target: a release
 * started again builds (and starts machines for) only what is missing.
 */
export async function findStoredBuild(request: BuildRequest, env: NodeJS.ProcessEnv): Promise<StoredFile[] | undefined> {
  const record = await readStoredText(request.storage, buildRecordKey(request), env);
  if (!record) return undefined;
  // Where the workers hold the release key, a record counts only if that key signed it: anyone who writes the bucket can write one.
  if (holdsReleaseKey(env)) {
    const signature = await readStoredText(request.storage, `${buildRecordKey(request)}.sig`, env);
    if (!(await signedByReleaseKey(record, signature, env, BUILD_RECORD_NAMESPACE))) return undefined;
  }
  const files = JSON.parse(record) as StoredFile[];
  for (const file of files) {
    if (!(await isStoredEverywhere(request.storage, `${request.keyPrefix}${file.file}`, file, env))) return undefined;
  }
  return files;
}
