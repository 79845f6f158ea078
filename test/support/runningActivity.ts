import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** An activity a worker has started and not finished, as the server sees it. */
export interface RunningActivity {
  workflowId: string;
  activityId: string;
  type: string;
  /** The worker's identity (`pid@host` for the TypeScript SDK). */
  identity: string;
  attempt: number;
}

/**
 * The started activities of these workflows (the release and its children),
 * from the server's own description; with `retrying`, also those waiting for
 * their next attempt after a worker ran them.
 */
export async function runningActivities(client: Client, workflowIds: string[], retrying = false): Promise<RunningActivity[]> {
  const found: RunningActivity[] = [];
  for (const workflowId of workflowIds) {
    const description = await client.workflowService
      .describeWorkflowExecution({ namespace: client.options.namespace, execution: { workflowId } })
      .catch(() => undefined);
    for (const pending of description?.pendingActivities ?? []) {
      const started = pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
      if (!started && !(retrying && pending.lastWorkerIdentity)) continue;
      found.push({
        workflowId,
        activityId: pending.activityId ?? '',
        type: pending.activityType?.name ?? '',
        identity: pending.lastWorkerIdentity ?? '',
        attempt: pending.attempt ?? 1,
      });
    }
  }
  return found;
}

/** The workflow IDs of a release: the release and every child it started (artifact builds, repository batches). */
export async function releaseWorkflowIds(client: Client, releaseId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(releaseId).fetchHistory();
  const children = (history.events ?? [])
    .map((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId)
    .filter((id): id is string => Boolean(id));
  return [releaseId, ...children];
}

/**
 * Waits until an activity of the release matching `match` runs on a worker.
 * Picks the point from what the release is doing, never from a sleep.
 */
export async function waitForRunningActivity(
  client: Client,
  releaseId: string,
  match: (activity: RunningActivity) => boolean,
  timeoutMs = 180_000,
): Promise<RunningActivity> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = (await runningActivities(client, await releaseWorkflowIds(client, releaseId))).find(match);
    if (running) return running;
    if (Date.now() > deadline) throw new Error(`no matching activity of ${releaseId} started within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * After the worker running `killed` died: how long until that activity runs
 * again on another worker (a later attempt with another identity), or is no
 * longer pending (the release went past it). Milliseconds since `since`.
 */
export async function resumedAfter(
  client: Client,
  killed: RunningActivity,
  since: number,
  timeoutMs = 120_000,
): Promise<{ ms: number; by?: string }> {
  for (;;) {
    const description = await client.workflowService.describeWorkflowExecution({
      namespace: client.options.namespace,
      execution: { workflowId: killed.workflowId },
    });
    const pending = description.pendingActivities?.find((activity) => activity.activityId === killed.activityId);
    const state = temporal.api.enums.v1.PendingActivityState;
    if (!pending) return { ms: Date.now() - since };
    if (pending.state === state.PENDING_ACTIVITY_STATE_STARTED && pending.lastWorkerIdentity !== killed.identity) {
      return { ms: Date.now() - since, by: pending.lastWorkerIdentity ?? undefined };
    }
    if (Date.now() - since > timeoutMs)
      throw new Error(`${killed.type} of ${killed.workflowId} did not run again within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
