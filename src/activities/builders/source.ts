import type { GitWorkspace } from '../gitWorkspace';
import type { BuildRequest } from './types';

/** A fresh working copy of the release commit at `dir`, cloned from the worker's copy of the repository. */
export async function checkOutReleaseCommit(workspace: GitWorkspace, request: BuildRequest, dir: string): Promise<void> {
  await workspace.checkOutCommit(request.repository.name, request.repository.url, request.sha, dir, {
    tokenEnv: request.tokenEnv,
    releaseId: request.releaseId,
  });
}

/** What a build command sees of its release. */
export function buildVariables(
  request: Pick<BuildRequest, 'releaseId' | 'artifact' | 'version' | 'sha' | 'build'>,
): Record<string, string> {
  return {
    RELFLOW_RELEASE_ID: request.releaseId,
    RELFLOW_ARTIFACT: request.artifact.name,
    RELFLOW_VERSION: request.version,
    RELFLOW_SHA: request.sha,
    ...(request.build !== undefined ? { RELFLOW_BUILD: String(request.build) } : {}),
  };
}
