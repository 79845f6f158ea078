import { proxyActivities } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities';

/** Git activities: idempotent, heartbeating on long clones and pushes. */
export const gitActivities = proxyActivities<ReleaseActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
