import { connectClient } from '../connection';
import { markdownReport, releaseReport } from '../../release/report';
import { prepareRelease, startPreparedRelease } from '../releases';
import { out, releaseTargetOf, type TargetOptions } from '../options';
import type { ReleaseKind } from '../../release/version';

export interface StartCommandOptions extends TargetOptions {
  taskQueue: string;
  buildTaskQueue: string;
  json?: boolean;
}

export async function startAction(kind: ReleaseKind, options: StartCommandOptions): Promise<void> {
  const prepared = await prepareRelease({
    ...releaseTargetOf(kind, options),
    taskQueue: options.taskQueue,
    buildTaskQueue: options.buildTaskQueue,
  });
  const { plan, started, state, continues } = await startPreparedRelease(await connectClient(), prepared);
  if (options.json) {
    out(
      JSON.stringify({
        releaseId: plan.releaseId,
        kind: plan.kind,
        releaseName: plan.releaseName,
        started,
        status: state?.status ?? 'running',
        continues: continues?.runId,
      }),
    );
  } else if (!started) {
    // Already released: what it released, at once, so a re-run of a finished release costs one lookup.
    out(
      `${plan.kind} release ${plan.releaseName} (${plan.releaseId}) already succeeded; nothing started (already released)\n` +
        `see it with: relflow status ${plan.releaseId}\n\n${state ? markdownReport(releaseReport(state)) : ''}`,
    );
  } else {
    const again = continues
      ? ` (run again after a run that ended ${continues.status} at ${continues.closed ?? continues.started}; what it pushed, stored and published is kept, not redone)`
      : '';
    out(`started ${plan.kind} release ${plan.releaseName}: ${plan.releaseId}${again}\nwatch it with: relflow status ${plan.releaseId}`);
  }
}
