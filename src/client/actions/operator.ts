import { WorkflowNotFoundError } from '@temporalio/client';
import { UserError } from '../../config/errors';
import { commandShapeProblem } from '../../release/decisions';
import type { OperatorCommand } from '../../release/model';
import { connectClient } from '../connection';
import { operateRelease } from '../releases';
import { out } from '../options';

export async function operatorAction(releaseId: string, command: OperatorCommand): Promise<void> {
  const problem = commandShapeProblem(command);
  if (problem) throw new UserError(problem);
  out(await operateRelease(await connectClient(), releaseId, command));
}

export async function cancelAction(releaseId: string): Promise<void> {
  try {
    await (await connectClient()).workflow.getHandle(releaseId).cancel();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new UserError(`no running release with ID '${releaseId}' (see \`relflow list\`)`);
    throw error;
  }
  out(`cancellation requested for ${releaseId}`);
}
