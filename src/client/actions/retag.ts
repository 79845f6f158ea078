import { UserError } from '../../config/errors';
import type { RetagRequest } from '../../activities/retagTarget';
import { retagShapeProblem } from '../../release/decisions';
import { connectClient } from '../connection';
import { signingKey, signRetagCommand } from '../gateSigning';
import { decisionScopeOf, retagRelease } from '../releases';
import { out } from '../options';

export interface RetagOptions {
  repository: string;
  by: string;
  taskQueue: string;
  force?: boolean;
  key?: string;
  sign: boolean;
}

export async function retagAction(releaseId: string, options: RetagOptions): Promise<void> {
  const request: RetagRequest = { releaseId, repository: options.repository, by: options.by, force: options.force === true };
  const problem = retagShapeProblem(request);
  if (problem) throw new UserError(problem.replace(/^repository:/, '--repository:'));
  const client = await connectClient();
  const key = options.sign ? signingKey(options.key) : undefined;
  const signed = key
    ? await signRetagCommand(key, {
        ...(await decisionScopeOf(client, releaseId)),
        repository: request.repository,
        force: request.force === true,
      })
    : {};
  const result = await retagRelease(client, { ...request, ...signed }, options.taskQueue);
  out(
    result.created
      ? `tag ${result.tag} of ${options.repository} moved to ${result.sha}`
      : `tag ${result.tag} of ${options.repository} already at ${result.sha}`,
  );
}
