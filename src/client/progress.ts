import { basename } from 'node:path';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ReleaseState } from '../release/model';
import { artifactWorkflowId } from '../release/plan';

/** An activity running now, with what its last heartbeat said. */
export interface RunningActivity {
  /** The workflow it runs for: the release, or an artifact's build workflow. */
  workflowId: string;
  activity: string;
  attempt: number;
  details?: Record<string, unknown>;
  lastHeartbeat?: string;
  /** The server holds it (temporal activity pause): it does not run again until it is unpaused. */
  paused?: { activityId: string; by?: string; reason?: string };
}

/** The pending activities of a workflow, from the server (what each one's last heartbeat said); none when it is gone. */
export async function pendingActivities(client: Client, workflowId: string): Promise<RunningActivity[]> {
  let description;
  try {
    description = await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return [];
    throw error;
  }
  return (description.raw.pendingActivities ?? []).map((pending) => {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    let details: Record<string, unknown> | undefined;
    try {
      const decoded = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
      if (decoded && typeof decoded === 'object' && !Array.isArray(decoded)) details = decoded as Record<string, unknown>;
    } catch {
      // Details of another shape (an older worker): shown without them.
    }
    const seconds = Number(pending.lastHeartbeatTime?.seconds ?? 0);
    return {
      workflowId,
      activity: pending.activityType?.name ?? 'activity',
      attempt: pending.attempt ?? 1,
      ...(details ? { details } : {}),
      ...(seconds ? { lastHeartbeat: new Date(seconds * 1000).toISOString() } : {}),
      ...(pending.paused
        ? {
            paused: {
              activityId: pending.activityId ?? '',
              ...(pending.pauseInfo?.manual?.identity ? { by: pending.pauseInfo.manual.identity } : {}),
              ...(pending.pauseInfo?.manual?.reason ? { reason: pending.pauseInfo.manual.reason } : {}),
            },
          }
        : {}),
    };
  });
}

/** What runs now for a release: its own activities and those of its running artifact builds. */
export async function runningActivities(client: Client, state: ReleaseState): Promise<RunningActivity[]> {
  if (state.status !== 'running') return [];
  const builds = state.artifacts
    .filter((artifact) => artifact.status === 'running')
    .map((artifact) => artifactWorkflowId(state.releaseId, artifact.name));
  const all = await Promise.all([state.releaseId, ...builds].map((id) => pendingActivities(client, id)));
  return all.flat();
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

/** One line for a running activity: a progress bar for an upload, the CI checks still pending, a build's last log line. */
export function progressLine(running: RunningActivity): string {
  const details = running.details ?? {};
  const where = running.workflowId.includes('/artifact/') ? `${running.workflowId.split('/artifact/')[1]}: ` : '';
  // A machine's build is watched by one look per poll interval, each an attempt: the count is of looks, not failures.
  const attempt =
    running.activity === 'checkMachineBuild' ? ` (look ${running.attempt})` : running.attempt > 1 ? ` (attempt ${running.attempt})` : '';
  const label = `${where}${running.activity}${attempt}`;
  if (running.paused) {
    const { activityId, by, reason } = running.paused;
    return (
      `${label} PAUSED${by ? ` by ${by}` : ''}${reason ? `: ${reason}` : ''}; it runs again after ` +
      `temporal activity unpause --workflow-id ${running.workflowId} --activity-id ${activityId}`
    );
  }
  if (typeof details.loaded === 'number' && typeof details.total === 'number' && details.total > 0) {
    const fraction = details.loaded / details.total;
    return `${label} ${basename(String(details.key ?? ''))} ${bar(fraction)} ${Math.floor(100 * fraction)}% (${mib(details.loaded)} of ${mib(details.total)} MiB)`;
  }
  if (Array.isArray(details.pending)) return `${label}: waiting for CI on ${details.pending.join(', ') || 'nothing'}`;
  if (Array.isArray(details.log)) return `${label}: ${String(details.log.at(-1) ?? '').slice(0, 160)}`;
  if (typeof details.git === 'string') return `${label}: git ${details.git}`;
  if (typeof details.machine === 'string') return `${label}: on ${details.machine}, waiting for its ${String(details.waiting ?? 'result')}`;
  return label;
}

/** The "Running now" section of `relflow status` and `watch` (empty when nothing runs). */
export function formatRunning(running: RunningActivity[]): string {
  return running.length === 0 ? '' : `\n\nRunning now:\n${running.map((activity) => `  ${progressLine(activity)}`).join('\n')}`;
}
