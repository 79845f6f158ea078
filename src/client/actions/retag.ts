import { connectClient } from '../connection';
import { retagRelease } from '../releases';
import { out } from '../options';

export async function retagAction(
  releaseId: string,
  options: { repository: string; by: string; taskQueue: string; force?: boolean },
): Promise<void> {
  const result = await retagRelease(await connectClient(), releaseId, options.repository, options.by, options.taskQueue, options.force);
  out(
    result.created
      ? `tag ${result.tag} of ${options.repository} moved to ${result.sha}`
      : `tag ${result.tag} of ${options.repository} already at ${result.sha}`,
  );
}
