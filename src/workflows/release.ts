import { releaseStarted } from './metrics';
import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { alert } from './alerts';
import { releasedWorkSkipReason } from './releasedWork';
import { Gates } from './gates';
import { OperatorControls } from './operator';
import { emptyResults, ReleaseContext, Stage } from './stage';
import { announceStage } from './stages/announce';
import { artifactsStage } from './stages/artifacts';
import { checkoutStage } from './stages/checkout';
import { ciStage } from './stages/ci';
import { planStage } from './stages/plan';
import { preflightStage } from './stages/preflight';
import { docsStage, pypiStage } from './stages/publish';
import { specsStage } from './stages/specs';
import { systemTestsStage } from './stages/systemTests';
import { tagStage } from './stages/tag';
import { versionStage } from './stages/version';
import type { Manifest } from '../config/manifest';
import { type ReleaseRequest, type ReleaseState, TRUST_REFUSED, UNTRUSTED_MANIFEST } from '../release/model';
import { errorMessage, fail, reject, ReleaseTracker, skip, succeed } from './tracker';

/** The release, in order. Each stage says when it does not apply. */
export const PIPELINE: readonly Stage[] = [
  planStage,
  preflightStage,
  checkoutStage,
  versionStage,
  tagStage,
  ciStage,
  specsStage,
  artifactsStage,
  systemTestsStage,
  pypiStage,
  docsStage,
  announceStage,
];

type StageEnd = 'done' | 'aborted';

/** From this change on, a preflight that refused the manifest's source or a secret's destination cannot be skipped. */
const UNSKIPPABLE_TRUST = 'unskippable-trust-refusals';
/** From this change on, a release whose inline manifest the preflight refused sends no alert through that manifest's notifications. */
const NO_ALERT_FOR_UNTRUSTED = 'no-alert-for-untrusted-manifest';

/** The type of the application failure under an activity's failure, if any. */
function failureType(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) {
    if (cause instanceof ApplicationFailure) return cause.type ?? undefined;
  }
  return undefined;
}

/**
 * Runs a stage; when it fails after its retries the release is blocked on it
 * and waits for an operator's retry, skip or abort. Work done before is kept.
 */
async function runStage(stage: Stage, context: ReleaseContext, operator: OperatorControls): Promise<StageEnd> {
  const { release } = context;
  for (;;) {
    release.enterStage(stage.name);
    try {
      const outcome = await stage.run(context);
      if (outcome?.failed) fail(release.stage(stage.name), outcome.failed);
      else if (outcome?.rejected) reject(release.stage(stage.name), outcome.rejected);
      else succeed(release.stage(stage.name), outcome?.detail);
      return 'done';
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = errorMessage(error);
      if (stage.name === 'plan') throw ApplicationFailure.nonRetryable(`plan: ${message}`, 'InvalidReleaseInput');
      const type = failureType(error);
      const untrusted = type === UNTRUSTED_MANIFEST;
      const skippable = stage.skippable && !((type === TRUST_REFUSED || untrusted) && patched(UNSKIPPABLE_TRUST));
      release.block(stage.name, message, skippable);
      const id = release.state.releaseId;
      // The refused manifest's webhooks and recipients are its sender's: the block shows in status, the Web UI and metrics.
      if (!(untrusted && patched(NO_ALERT_FOR_UNTRUSTED))) {
        await alert(context.manifest, {
          subject: `${release.state.product} release ${release.state.releaseName ?? id} is blocked on ${stage.name}`,
          text: `Stage ${stage.name} failed after its retries:\n  ${message}\n\nRetry: relflow retry ${id}\n${skippable ? `Skip:  relflow skip ${id}\n` : ''}Abort: relflow abort ${id}`,
          summary: `blocked on ${stage.name}: ${message} (relflow retry ${id})`,
        });
      }
      const command = await operator.next();
      release.unblock();
      if (command.action === 'abort') {
        fail(release.stage(stage.name), `aborted by ${command.by} after: ${message}`);
        return 'aborted';
      }
      if (command.action === 'skip') {
        skip(release.stage(stage.name), `skipped by ${command.by} after: ${message}`);
        return 'done';
      }
    }
  }
}

export async function releaseWorkflow(request: ReleaseRequest): Promise<ReleaseState> {
  // A request from any client may be malformed: the plan stage refuses it, with the tracker already answering queries.
  const release = new ReleaseTracker(
    workflowInfo().workflowId,
    String(request?.manifest?.product ?? 'unknown'),
    request?.kind ?? ('unknown' as ReleaseRequest['kind']),
  );
  releaseStarted(String(request?.kind ?? 'unknown'));
  // A manifest named by reference is read by the plan stage.
  const context: ReleaseContext = {
    request,
    manifest: request?.manifest as Manifest,
    release,
    gates: new Gates(release),
    results: emptyResults(),
  };
  const operator = new OperatorControls(release);
  try {
    for (const stage of PIPELINE) {
      const reason = releasedWorkSkipReason(context, stage.name) ?? stage.skip(context);
      if (reason) {
        skip(release.stage(stage.name), reason);
        continue;
      }
      if ((await runStage(stage, context, operator)) === 'aborted') {
        release.finish('aborted');
        return release.state;
      }
    }
  } catch (error) {
    if (isCancellation(error)) {
      release.finish('cancelled');
      throw error;
    }
    fail(release.stage(release.state.stage === 'done' ? 'announce' : release.state.stage), error);
    release.finish('failed');
    throw error;
  }
  release.finish('succeeded');
  return release.state;
}
