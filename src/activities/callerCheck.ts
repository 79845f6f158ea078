import { ApplicationFailure, Context } from '@temporalio/activity';
import { WORKFLOW_TYPES } from '../release/model';

/**
 * Runs an activity only when one of relflow's workflows scheduled it. Since
 * Temporal server 1.31 a client can start an activity by itself (a Standalone
 * Activity) on any task queue, with an input of its choosing: the workflows
 * check their input, so an activity with no workflow, or another's, is refused
 * before it pushes, signs or runs anything.
 */
export function forRelflowWorkflowsOnly<A extends unknown[], R>(
  name: string,
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const { workflowType, workflowExecution } = Context.current().info;
    if (!workflowExecution?.workflowId || !(WORKFLOW_TYPES as readonly string[]).includes(workflowType ?? '')) {
      throw ApplicationFailure.nonRetryable(
        `${name} runs only for relflow's own workflows (a release and its children), not when a client starts it ${workflowType ? `from a ${workflowType}` : 'by itself'}`,
        'NotFromARelease',
      );
    }
    return activity(...args);
  };
}
