import { sweepLeftoverBuilds } from './leftovers';
import type { GitWorkspace } from '../gitWorkspace';
import { workerSecrets } from '../secrets';
import { createEc2Builder } from './ec2';
import { createLocalBuilder } from './local';
import { BuildRecordTarget, findStoredBuild, recordBuild } from './outputs';
import type { Builder, BuildRequest, Machine } from './types';
import { createVagrantBuilder } from './vagrant';
import type { StoredFile } from '../../release/model';

export type { BuildRequest, Machine } from './types';

/** Provision, build (and store the outputs), tear down: one interface over every builder. */
export function createBuildActivities(workspace: GitWorkspace, buildRoot: string, env: NodeJS.ProcessEnv) {
  sweepLeftoverBuilds(buildRoot);
  const ec2 = createEc2Builder(env);
  const builders: Record<BuildRequest['artifact']['builder'], Builder> = {
    local: createLocalBuilder(workspace, buildRoot, env),
    ec2,
    vagrant: createVagrantBuilder(workspace, buildRoot, env),
  };
  const builderFor = (request: BuildRequest) => builders[request.artifact.builder];
  return {
    /** The stored files of an earlier build from the same commit, when they are all still in place. */
    async findStoredBuild(request: BuildRequest): Promise<StoredFile[] | undefined> {
      return findStoredBuild(request, env);
    },
    /** On a release worker: records a finished build's files, signed with the release key it holds (false: it holds none). */
    async signBuildRecord(input: BuildRecordTarget & { files: StoredFile[] }): Promise<boolean> {
      const { files, ...target } = input;
      if (!workerSecrets(env).releaseSigningKey) return false;
      return recordBuild(target, files, env);
    },
    async provisionBuilder(request: BuildRequest): Promise<Machine> {
      return builderFor(request).provision(request);
    },
    async buildArtifact(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      return builderFor(request).build(request);
    },
    /** One look at an ec2 machine's build (the artifact workflow retries it at the poll interval). */
    async checkMachineBuild(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      return ec2.checkBuild(request);
    },
    async tearDownBuilder(request: BuildRequest & { machine: Machine }): Promise<void> {
      return builderFor(request).tearDown(request);
    },
  };
}

export type BuildActivities = ReturnType<typeof createBuildActivities>;
