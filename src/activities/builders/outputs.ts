import { ApplicationFailure } from '@temporalio/common';
import type { StoredFile } from '../../workflows/state';
import { storeFile } from '../storage';
import type { BuildRequest } from './types';

/** Stores the files a build left (on the store and every mirror); a build that left none of its outputs fails. */
export async function storeBuildOutputs(request: BuildRequest, paths: string[], env: NodeJS.ProcessEnv): Promise<StoredFile[]> {
  if (paths.length === 0) {
    throw ApplicationFailure.nonRetryable(`${request.artifact.name}: the build left none of ${request.artifact.outputs.join(', ')}`, 'BuildOutputMissing');
  }
  const stored: StoredFile[] = [];
  for (const path of paths) {
    const file = path.slice(path.lastIndexOf('/') + 1);
    const { skipped: _skipped, ...result } = await storeFile({ storage: request.storage, name: request.artifact.name, key: `${request.keyPrefix}${file}`, path }, env);
    stored.push(result);
  }
  return stored;
}
