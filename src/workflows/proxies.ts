import { ActivityOptions, proxyActivities, RetryPolicy } from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities';

/**
 * Failures that the same input will meet again: named once, never retried,
 * whichever activity raises them (the activities also raise most of them as
 * non-retryable; this list is the guarantee).
 */
export const PERMANENT_FAILURES = [
  'MissingSecret',
  'SecretNotAllowed',
  'InvalidRelease',
  'InvalidReleaseInput',
  'InvalidArtifact',
  'InvalidOutput',
  'PreflightFailed',
  'GitRemoteNotFound',
  'GitUnauthorized',
  'GitRedirected',
  'GitBranchNotFound',
  'GitBranchDiverged',
  'GitTagConflict',
  'CiUnauthorized',
  'GithubUnauthorized',
  'DocsProjectNotFound',
  'DocsVersionNotFound',
  'PypiFileDiffers',
  'BuildFailed',
  'BuildOutputMismatch',
  'BuildTimeout',
  'SystemTestsTimeout',
];

const RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 3,
  nonRetryableErrorTypes: PERMANENT_FAILURES,
};
/**
 * Every activity heartbeats every 2 seconds while it runs (keepingAlive): a
 * worker that dies is noticed within this timeout, and the next attempt starts
 * on another worker well within 30 seconds.
 */
export const HEARTBEAT_TIMEOUT = '15 seconds';
const DEFAULT: ActivityOptions = { startToCloseTimeout: '1 hour', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: RETRY };
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
  // Reads the release's record and its manifest, checks the operator's signature and who published the tag.
  retagTarget: { ...DEFAULT, startToCloseTimeout: '5 minutes' },
  uploadSpecs: DEFAULT,
  publishArtifactsManifest: DEFAULT,
  allocateBuildNumber: DEFAULT,
  publishChecksums: DEFAULT,
  // Deterministic statements and Ed25519 signatures: a retry stores the same bytes.
  publishProvenance: DEFAULT,
  // Reads only: one ls-remote per repository, artifacts.json and a look at each file it lists.
  findReleasedWork: GIT,
  // One for-each-ref and one log per repository, in the release's working copies.
  writeReleaseNotes: GIT,
  // Finds each release by its tag before it creates one: retried safely.
  publishGithubReleases: DEFAULT,
  // Its start-to-close is the manifest's CI timeout plus ten minutes (ci stage).
  waitForCi: DEFAULT,
  // Its start-to-close is the manifest's system test timeout plus ten minutes. Failed or timed-out tests are
  // a result, never retried (SystemTestsTimeout); a run cut short by a dead worker runs again on another.
  runSystemTests: DEFAULT,
  publishPythonPackage: DEFAULT,
  buildDocs: { ...DEFAULT, startToCloseTimeout: '2 hours' },
  // Alerts must not hold a release up for long.
  sendAlert: { startToCloseTimeout: '2 minutes', heartbeatTimeout: HEARTBEAT_TIMEOUT, retry: RETRY },
  announceRelease: { ...DEFAULT, startToCloseTimeout: '5 minutes' },
  // A person waits on the answer: ssh-keygen takes milliseconds.
  verifyGateDecision: { ...DEFAULT, startToCloseTimeout: '1 minute' },
  // Reads the workers' trust file.
  gateTakesSignedDecisions: { ...DEFAULT, startToCloseTimeout: '1 minute' },
  verifyOperatorCommand: { ...DEFAULT, startToCloseTimeout: '1 minute' },
  // A shallow fetch of one file of the configuration repository.
  loadReleaseManifest: { ...DEFAULT, startToCloseTimeout: '5 minutes' },
  // Build activities: their start-to-close is the artifact's timeout plus ten minutes, their heartbeat the release's (artifact workflow).
  findStoredBuild: BUILD,
  // Two small S3 writes and an ssh-keygen signature, on a release worker.
  signBuildRecord: DEFAULT,
  provisionBuilder: BUILD,
  buildArtifact: BUILD,
  tearDownBuilder: BUILD,
  // One look at a machine; the artifact workflow sets the poll interval as the retry interval and the build timeout as schedule-to-close.
  checkMachineBuild: {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { backoffCoefficient: 1, nonRetryableErrorTypes: PERMANENT_FAILURES },
  },
  reapBuildMachines: { ...DEFAULT, startToCloseTimeout: '10 minutes' },
};

/** One activity with its options from the table, and what the release decides on top (a timeout, a summary for the Web UI). */
export function activity<K extends keyof ReleaseActivities>(name: K, options: Partial<ActivityOptions> = {}): ReleaseActivities[K] {
  const base = ACTIVITY_OPTIONS[name];
  const merged: ActivityOptions = { ...base, ...options, retry: { ...base.retry, ...options.retry } };
  return proxyActivities<Pick<ReleaseActivities, K>>(merged)[name] as ReleaseActivities[K];
}
