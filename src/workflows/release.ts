import { ApplicationFailure, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ReleaseContext, Stage } from './stage';
import { checkoutStage } from './stages/checkout';
import { planStage } from './stages/plan';
import { tagStage } from './stages/tag';
import { versionStage } from './stages/version';
import type { ReleaseRequest, ReleaseState } from './state';
import { errorMessage, fail, ReleaseTracker, skip, succeed } from './tracker';

/** The release, in order. Each stage says when it does not apply. */
export const PIPELINE: readonly Stage[] = [planStage, checkoutStage, versionStage, tagStage];

export async function releaseWorkflow(request: ReleaseRequest): Promise<ReleaseState> {
  const release = new ReleaseTracker(workflowInfo().workflowId, request.manifest.product, request.kind);
  const context: ReleaseContext = { request, manifest: request.manifest, release };
  for (const stage of PIPELINE) {
    const reason = stage.skip(context);
    if (reason) {
      skip(release.stage(stage.name), reason);
      continue;
    }
    release.enterStage(stage.name);
    try {
      await stage.run(context);
      succeed(release.stage(stage.name));
    } catch (error) {
      fail(release.stage(stage.name), error);
      if (isCancellation(error)) {
        release.finish('cancelled');
        throw error;
      }
      release.finish('failed');
      throw ApplicationFailure.nonRetryable(`${stage.name}: ${errorMessage(error)}`, 'ReleaseFailed');
    }
  }
  release.finish('succeeded');
  return release.state;
}
