import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';

/** From this change on, artifact builds and repository batches run only as children of a workflow. */
const CHILDREN_ONLY = 'children-of-a-release-only';

/**
 * Refuses a run a client started directly. A child's input comes from its
 * parent, a release whose own input was checked (and whose manifest came from
 * the trusted source); the server sets the parent, no client can.
 */
export function refuseUnlessChild(workflowType: string): void {
  if (!patched(CHILDREN_ONLY) || workflowInfo().parent) return;
  throw ApplicationFailure.nonRetryable(
    `${workflowType} runs only as a child of a release (relflow start), not when a client starts it`,
    'NotAChildOfARelease',
  );
}
