import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { StoredFile } from '../../release/model';
import type { GitWorkspace } from '../gitWorkspace';
import { lastLines, runProcess } from '../process';
import { buildRun, buildScript, collectMachineOutputs, removeMachineReports } from './remoteMachine';
import { insideRoot, pathSegment } from '../paths';
import { vagrantEnvironment } from './buildEnvironment';
import { checkOutReleaseCommit } from './source';
import type { Builder, BuildRequest, Machine } from './types';

/**
 * The vagrant builder, as the original flow used it: `vagrant up` in a
 * Vagrantfile directory of the artifact's repository at the release commit (the
 * Vagrantfile sees RELFLOW_SHA and the other build variables), the build over
 * `vagrant ssh -c`, `vagrant destroy -f` in the tear-down. The machine reports
 * its outputs through presigned URLs, like an ec2 machine, so any provider works.
 */
export function createVagrantBuilder(workspace: GitWorkspace, buildRoot: string, env: NodeJS.ProcessEnv, pollMs = 2000): Builder {
  const vagrant = env.RELFLOW_VAGRANT || 'vagrant';
  const runDir = (request: BuildRequest) =>
    join(
      buildRoot,
      pathSegment(request.releaseId, 'release ID'),
      pathSegment(request.artifact.name, 'artifact name'),
      pathSegment(buildRun(request), 'run ID'),
    );
  const machineDir = (request: BuildRequest) => {
    const source = join(runDir(request), 'src');
    const directory = request.artifact.vagrant?.directory;
    if (!directory)
      throw ApplicationFailure.nonRetryable(
        `artifacts.${request.artifact.name}.vagrant.directory: required with builder vagrant`,
        'InvalidArtifact',
      );
    // Links resolved: a directory of the repository that links out (to the worker's HOME) is refused too.
    return insideRoot(source, directory, `artifacts.${request.artifact.name}.vagrant.directory`);
  };
  const vagrantCommand = async (request: BuildRequest, args: string[], timeoutMs: number) => {
    try {
      return await runProcess([vagrant, ...args], {
        cwd: machineDir(request),
        env: vagrantEnvironment(env, request, join(runDir(request), 'home')),
        timeoutMs,
        logTail: true,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw ApplicationFailure.nonRetryable(
          `${request.artifact.name}: '${vagrant}' is not installed on this build worker (install Vagrant, or set RELFLOW_VAGRANT)`,
          'VagrantMissing',
        );
      }
      throw error;
    }
  };
  const machineOf = (request: BuildRequest): Machine => ({
    id: `vagrant:${request.releaseId}/${request.artifact.name}/${buildRun(request)}`,
    builder: 'vagrant',
  });

  return {
    async provision(request: BuildRequest): Promise<Machine> {
      const dir = machineDir(request);
      // A machine an earlier attempt brought up keeps its state in .vagrant: `vagrant up` again resumes it.
      if (!existsSync(join(dir, '.vagrant'))) await checkOutReleaseCommit(workspace, request, join(runDir(request), 'src'));
      // Checked again on the checked-out tree, where the repository's own links now are.
      machineDir(request);
      if (!existsSync(join(dir, 'Vagrantfile'))) {
        throw ApplicationFailure.nonRetryable(
          `artifacts.${request.artifact.name}.vagrant.directory: no Vagrantfile in '${request.artifact.vagrant?.directory}' of ${request.repository.name} at ${request.sha.slice(0, 12)}`,
          'InvalidArtifact',
        );
      }
      const up = await vagrantCommand(request, ['up'], request.timeoutMs);
      if (up.code !== 0) throw new Error(`${request.artifact.name}: vagrant up failed (exit ${up.code}): ${lastLines(up.output)}`);
      return machineOf(request);
    },

    async build(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      const ssh = await vagrantCommand(request, ['ssh', '-c', await buildScript(request, env)], request.timeoutMs);
      try {
        // The script has reported before ssh returns: no waiting.
        return await collectMachineOutputs({ ...request, timeoutMs: 0 }, env, pollMs);
      } catch (error) {
        if (ssh.code !== 0 && error instanceof ApplicationFailure && error.type === 'BuildTimeout') {
          throw new Error(
            `${request.artifact.name}: vagrant ssh failed (exit ${ssh.code}) before the build reported: ${lastLines(ssh.output)}`,
          );
        }
        throw error;
      }
    },

    async tearDown(request: BuildRequest & { machine: Machine }): Promise<void> {
      if (existsSync(join(machineDir(request), '.vagrant'))) {
        const destroy = await vagrantCommand(request, ['destroy', '-f'], 30 * 60_000);
        if (destroy.code !== 0)
          throw new Error(`${request.artifact.name}: vagrant destroy failed (exit ${destroy.code}): ${lastLines(destroy.output)}`);
      }
      await rm(runDir(request), { recursive: true, force: true });
      await removeMachineReports(request, env);
    },
  };
}
