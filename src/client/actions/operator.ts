import { WorkflowNotFoundError } from '@temporalio/client';
import { UserError } from '../../config/errors';
import { commandShapeProblem } from '../../release/decisions';
import type { OperatorAction, OperatorCommand } from '../../release/model';
import { signingKey, signOperatorCommand } from '../gateSigning';
import { connectClient } from '../connection';
import { decisionScopeOf, operateRelease } from '../releases';
import { out } from '../options';

export interface OperatorOptions {
  by: string;
  reason?: string;
  key?: string;
  sign: boolean;
}

export async function operatorAction(releaseId: string, action: OperatorAction, options: OperatorOptions): Promise<void> {
  const command: OperatorCommand = { action, by: options.by, reason: options.reason };
  const problem = commandShapeProblem(command);
  if (problem) throw new UserError(problem);
  const client = await connectClient();
  const key = options.sign ? signingKey(options.key) : undefined;
  const signed = key
    ? await signOperatorCommand(key, { ...(await decisionScopeOf(client, releaseId)), action, reason: options.reason })
    : {};
  out(await operateRelease(client, releaseId, { ...command, ...signed }));
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
