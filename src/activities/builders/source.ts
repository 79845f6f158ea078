import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { simpleGit } from 'simple-git';
import type { GitWorkspace } from '../gitWorkspace';
import { gitEnvironment } from '../gitWorkspace';
import type { BuildRequest } from './types';

/** A fresh working copy of the release commit at `dir`, cloned from the worker's mirror of the repository. */
export async function checkOutReleaseCommit(workspace: GitWorkspace, request: BuildRequest, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const mirror = await workspace.refreshMirror(request.repository.name, request.repository.url, { tokenEnv: request.tokenEnv });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await simpleGit(dirname(dir)).env(gitEnvironment(env, request.tokenEnv)).clone(mirror, dir, ['--no-checkout', '--quiet']);
  await simpleGit(dir).env(gitEnvironment(env)).raw(['checkout', '--quiet', '--detach', request.sha]);
}

/** What a build command sees of its release. */
export function buildVariables(request: BuildRequest): Record<string, string> {
  return { RELFLOW_RELEASE_ID: request.releaseId, RELFLOW_ARTIFACT: request.artifact.name, RELFLOW_VERSION: request.version, RELFLOW_SHA: request.sha };
}
