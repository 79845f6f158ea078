import { ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities';

const RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 };

/** Activities of the release task queue, with timeouts that suit each system. */
export function activities(options: Partial<ActivityOptions> = {}) {
  return proxyActivities<ReleaseActivities>({ startToCloseTimeout: '1 hour', heartbeatTimeout: '2 minutes', retry: RETRY, ...options });
}

/** Git activities: idempotent, heartbeating on long clones and pushes. */
export const gitActivities = activities({ retry: { ...RETRY, maximumAttempts: 5 } });

/** The same, with the one-line summary the Web UI shows for the activity. */
export function gitActivitiesFor(summary: string) {
  return activities({ retry: { ...RETRY, maximumAttempts: 5 }, summary });
}

/** Alerts must not hold a release up for long. */
export const notifyActivities = activities({ startToCloseTimeout: '2 minutes', heartbeatTimeout: undefined });
