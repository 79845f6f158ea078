import { buildFinished } from './metrics';
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { BuildRequest, Machine } from '../activities/builders';
import { refuseUnlessChild } from './childOfRelease';
import { activity, HEARTBEAT_TIMEOUT } from './proxies';
import { DEFAULT_EC2_POLL_INTERVAL } from '../config/defaults';
import { durationMs } from '../config/duration';
import type { StoredFile } from '../release/model';

export interface ArtifactResult {
  machineId: string;
  files: StoredFile[];
  /** True when an earlier build from the same commit was still stored: nothing was built. */
  reused?: boolean;
}

/**
 * Waits for a build on a machine of its own by looking at it once per poll
 * interval: each look is an activity attempt the server retries, so the wait
 * holds no worker slot and adds no history events, however long the build.
 */
async function awaitMachineBuild(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
  const poll = durationMs(request.ec2?.pollInterval ?? DEFAULT_EC2_POLL_INTERVAL);
  const checkMachineBuild = activity('checkMachineBuild', {
    scheduleToCloseTimeout: request.timeoutMs,
    retry: { initialInterval: poll, maximumInterval: poll },
  });
  try {
    return await checkMachineBuild(request);
  } catch (error) {
    if (isCancellation(error)) throw error;
    // The build timeout ends the looks: the last one's "still building" is the cause, the retry state says why.
    if (error instanceof ActivityFailure && error.retryState === 'TIMEOUT') {
      throw ApplicationFailure.nonRetryable(
        `${request.artifact.name}: machine ${request.machine.id} reported nothing within ${request.artifact.timeout}`,
        'BuildTimeout',
      );
    }
    throw error;
  }
}

/**
 * One artifact: provision -> build (outputs stored) -> tear down. The tear-down
 * runs on success, failure and cancellation alike.
 */
export async function artifactWorkflow(input: BuildRequest): Promise<ArtifactResult> {
  refuseUnlessChild('artifactWorkflow');
  // Machines and their reports are keyed by the run, so an operator's retry gets a machine of its own.
  const request: BuildRequest = patched('artifact-run-id') ? { ...input, runId: workflowInfo().runId } : input;
  const timeouts = {
    startToCloseTimeout: request.timeoutMs + 10 * 60_000,
    heartbeatTimeout: request.heartbeatTimeout ?? HEARTBEAT_TIMEOUT,
  };
  const builder = {
    findStoredBuild: activity('findStoredBuild', timeouts),
    provisionBuilder: activity('provisionBuilder', timeouts),
    buildArtifact: activity('buildArtifact', timeouts),
    tearDownBuilder: activity('tearDownBuilder', timeouts),
  };
  if (patched('reuse-stored-build')) {
    const stored = await builder.findStoredBuild(request);
    if (stored) {
      buildFinished(request.artifact.builder, 'reused');
      return { machineId: 'none', files: stored, reused: true };
    }
  }
  const machine = await builder.provisionBuilder(request);
  try {
    const files =
      request.artifact.builder === 'ec2' && patched('ec2-wait-by-retry')
        ? await awaitMachineBuild({ ...request, machine })
        : await builder.buildArtifact({ ...request, machine });
    buildFinished(request.artifact.builder, 'built');
    return { machineId: machine.id, files };
  } catch (error) {
    buildFinished(request.artifact.builder, 'failed');
    throw error;
  } finally {
    await CancellationScope.nonCancellable(() => builder.tearDownBuilder({ ...request, machine }));
  }
}
