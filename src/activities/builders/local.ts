import { existsSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GitWorkspace } from '../gitWorkspace';
import { lastLines, runProcess } from '../process';
import { pathSegment } from '../paths';
import { claimBuildDir } from './leftovers';
import { expandOutputs, storeBuildOutputs } from './outputs';
import { localBuildEnvironment } from './buildEnvironment';
import { checkOutReleaseCommit } from './source';
import { sandboxed, workerSandbox } from './sandbox';
import type { Builder, BuildRequest, Machine } from './types';
import type { StoredFile } from '../../release/model';

async function runCommand(argv: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const result = await runProcess(argv, { cwd, env, timeoutMs, logTail: true });
  if (result.code !== 0) throw new Error(`build command failed (exit ${result.code}): ${lastLines(result.output)}`);
}

/** The local builder: the build command runs on the worker, in a checkout of the release's commit. */
export function createLocalBuilder(workspace: GitWorkspace, buildRoot: string, env: NodeJS.ProcessEnv): Builder {
  const sandbox = workerSandbox(env);
  const buildDir = (request: BuildRequest) =>
    join(buildRoot, pathSegment(request.releaseId, 'release ID'), pathSegment(request.artifact.name, 'artifact name'));
  return {
    async provision(request: BuildRequest): Promise<Machine> {
      return { id: `local:${request.releaseId}/${request.artifact.name}`, builder: 'local' };
    },

    // The build directory goes with the build, on the worker that made it: the tear-down may run on another
    // worker, and a worker that dies mid-build leaves it to the sweep of the next worker on its workspace.
    async build(request: BuildRequest): Promise<StoredFile[]> {
      const source = join(buildDir(request), 'src');
      try {
        await checkOutReleaseCommit(workspace, request, source);
        claimBuildDir(buildDir(request));
        const home = join(buildDir(request), 'home');
        const buildEnv = localBuildEnvironment(env, request, home);
        const argv = sandboxed(sandbox, ['sh', '-c', request.artifact.command], {
          buildDir: buildDir(request),
          cwd: source,
          env: buildEnv,
          network: request.artifact.network === true,
          what: `artifacts.${request.artifact.name}`,
        });
        await runCommand(argv, source, buildEnv, request.timeoutMs);
        return await storeBuildOutputs(request, expandOutputs(source, request.artifact.outputs, request.artifact.name), env);
      } finally {
        await rm(buildDir(request), { recursive: true, force: true });
        await rmdir(dirname(buildDir(request))).catch(() => undefined);
      }
    },

    async tearDown(request: BuildRequest): Promise<void> {
      if (existsSync(buildDir(request))) await rm(buildDir(request), { recursive: true, force: true });
    },
  };
}
