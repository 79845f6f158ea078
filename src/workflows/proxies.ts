import { ActivityOptions, proxyActivities, RetryPolicy } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities';

/**
 * Failures that the same input will meet again: named once, never retried,
 * whichever activity raises them (the activities also raise most of them as
 * non-retryable; this list is the guarantee).
 */
export const PERMANENT_FAILURES = [
  'MissingSecret',
  'InvalidRelease',
  'InvalidReleaseInput',
  'InvalidArtifact',
  'PreflightFailed',
  'GitRemoteNotFound',
  'GitUnauthorized',
  'GitRedirected',
  'GitBranchNotFound',
  'GitBranchDiverged',
  'GitTagConflict',
  'CiUnauthorized',
  'DocsProjectNotFound',
  'DocsVersionNotFound',
  'PypiFileDiffers',
  'BuildFailed',
  'BuildTimeout',
];

const RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 3,
  nonRetryableErrorTypes: PERMANENT_FAILURES,
};
const DEFAULT: ActivityOptions = { startToCloseTimeout: '1 hour', heartbeatTimeout: '2 minutes', retry: RETRY };
/** Build steps: the artifact workflow adds the build's timeout and heartbeat timeout. */
const BUILD: ActivityOptions = {
  ...DEFAULT,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: PERMANENT_FAILURES },
};
/** Idempotent and heartbeating while git runs: retried more. */
const GIT: ActivityOptions = { ...DEFAULT, retry: { ...RETRY, maximumAttempts: 5 } };

/**
 * Every activity's timeouts and retry policy, in one table. Where a value
 * depends on the release (a CI timeout, a build timeout), the stage passes it
 * through `activity(name, { ... })` and the table gives the rest.
 */
export const ACTIVITY_OPTIONS: Record<keyof ReleaseActivities, ActivityOptions> = {
  // Reads only: a remote, the bucket, the tools. Its problems are the release's input, not worth retrying.
  preflightRelease: { ...DEFAULT, startToCloseTimeout: '15 minutes', retry: { ...RETRY, maximumAttempts: 2 } },
  checkoutRepository: GIT,
  commitVersionChanges: GIT,
  versionRepository: GIT,
  tagRepository: GIT,
  retagRepository: GIT,
  uploadSpecs: DEFAULT,
  publishArtifactsManifest: DEFAULT,
  // Its start-to-close is the manifest's CI timeout plus ten minutes (ci stage); it heartbeats at each poll.
  waitForCi: { ...DEFAULT, heartbeatTimeout: '10 minutes' },
  // Its start-to-close is the manifest's system test timeout plus ten minutes; a test run is never repeated by itself.
  runSystemTests: { ...DEFAULT, retry: { maximumAttempts: 1 } },
  publishPythonPackage: DEFAULT,
  buildDocs: { ...DEFAULT, startToCloseTimeout: '2 hours' },
  // Alerts must not hold a release up for long.
  sendAlert: { startToCloseTimeout: '2 minutes', retry: RETRY },
  announceRelease: { ...DEFAULT, startToCloseTimeout: '5 minutes' },
  // Build activities: their start-to-close is the artifact's timeout plus ten minutes, their heartbeat the release's (artifact workflow).
  findStoredBuild: BUILD,
  provisionBuilder: BUILD,
  buildArtifact: BUILD,
  tearDownBuilder: BUILD,
  // One look at a machine; the artifact workflow sets the poll interval as the retry interval and the build timeout as schedule-to-close.
  checkMachineBuild: { startToCloseTimeout: '10 minutes', retry: { backoffCoefficient: 1, nonRetryableErrorTypes: PERMANENT_FAILURES } },
  reapBuildMachines: { ...DEFAULT, startToCloseTimeout: '10 minutes' },
};

/** One activity with its options from the table, and what the release decides on top (a timeout, a summary for the Web UI). */
export function activity<K extends keyof ReleaseActivities>(name: K, options: Partial<ActivityOptions> = {}): ReleaseActivities[K] {
  const base = ACTIVITY_OPTIONS[name];
  const merged: ActivityOptions = { ...base, ...options, retry: { ...base.retry, ...options.retry } };
  return proxyActivities<Pick<ReleaseActivities, K>>(merged)[name] as ReleaseActivities[K];
}
