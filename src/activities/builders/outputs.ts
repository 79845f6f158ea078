import { ApplicationFailure } from '@temporalio/common';
import type { StoredFile } from '../../release/model';
import { isStoredEverywhere, readStoredText, storeFile, writeStoredText } from '../storage';
import type { BuildRequest } from './types';

/** What a finished build stored, kept beside the release's files: one record per artifact and commit. */
function buildRecordKey(request: BuildRequest): string {
  return `${request.keyPrefix}.relflow-builds/${request.artifact.name}/built-${request.sha}.json`;
}

/** Stores the files a build left (on the store and every mirror) and records them; a build that left none of its outputs fails. */
export async function storeBuildOutputs(request: BuildRequest, paths: string[], env: NodeJS.ProcessEnv): Promise<StoredFile[]> {
  if (paths.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `${request.artifact.name}: the build left none of ${request.artifact.outputs.join(', ')}`,
      'BuildOutputMissing',
    );
  }
  const stored: StoredFile[] = [];
  for (const path of paths) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const { skipped: _skipped, ...result } = await storeFile(
      { storage: request.storage, name: request.artifact.name, key: `${request.keyPrefix}${file}`, path },
      env,
    );
    stored.push(result);
  }
  await writeStoredText(request.storage, buildRecordKey(request), `${JSON.stringify(stored, null, 2)}\n`, env);
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
  const files = JSON.parse(record) as StoredFile[];
  for (const file of files) {
    if (!(await isStoredEverywhere(request.storage, `${request.keyPrefix}${file.file}`, file, env))) return undefined;
  }
  return files;
}
