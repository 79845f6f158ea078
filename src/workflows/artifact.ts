import { CancellationScope, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BuildActivities, BuildRequest } from '../activities/builders';
import type { StoredFile } from './state';

export interface ArtifactResult {
  machineId: string;
  files: StoredFile[];
  /** True when an earlier build from the same commit was still stored: nothing was built. */
  reused?: boolean;
}

/**
 * One artifact: provision -> build (outputs stored) -> tear down. The tear-down
 * runs on success, failure and cancellation alike.
 */
export async function artifactWorkflow(input: BuildRequest): Promise<ArtifactResult> {
  // Machines and their reports are keyed by the run, so an operator's retry gets a machine of its own.
  const request: BuildRequest = patched('artifact-run-id') ? { ...input, runId: workflowInfo().runId } : input;
  const builder = proxyActivities<BuildActivities>({
    startToCloseTimeout: request.timeoutMs + 10 * 60_000,
    heartbeatTimeout: request.heartbeatTimeout ?? '2 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
  });
  if (patched('reuse-stored-build')) {
    const stored = await builder.findStoredBuild(request);
    if (stored) return { machineId: 'none', files: stored, reused: true };
  }
  const machine = await builder.provisionBuilder(request);
  try {
    const files = await builder.buildArtifact({ ...request, machine });
    return { machineId: machine.id, files };
  } finally {
    await CancellationScope.nonCancellable(() => builder.tearDownBuilder({ ...request, machine }));
  }
}
