import { ApplicationFailure } from '@temporalio/common';
import type { GitWorkspace } from '../gitWorkspace';
import { createLocalBuilder } from './local';
import type { BuildRequest, Machine } from './types';
import type { StoredFile } from '../../workflows/state';

export type { BuildRequest, Machine } from './types';

/** Provision, build (and store the outputs), tear down: one interface over every builder. */
export function createBuildActivities(workspace: GitWorkspace, buildRoot: string, env: NodeJS.ProcessEnv) {
  const local = createLocalBuilder(workspace, buildRoot, env);
  const builderFor = (request: BuildRequest) => {
    if (request.artifact.builder === 'local') return local;
    throw ApplicationFailure.nonRetryable(
      `${request.artifact.name}: the ${request.artifact.builder} builder is not available in this relflow version; use builder: local`,
      'BuilderUnavailable',
    );
  };
  return {
    async provisionBuilder(request: BuildRequest): Promise<Machine> {
      return builderFor(request).provision(request);
    },
    async buildArtifact(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      return builderFor(request).build(request);
    },
    async tearDownBuilder(request: BuildRequest & { machine: Machine }): Promise<void> {
      return builderFor(request).tearDown(request);
    },
  };
}

export type BuildActivities = ReturnType<typeof createBuildActivities>;
