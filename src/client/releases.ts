import { refuseManifestProblems } from '../release/manifestCheck';
import {
  Client,
  ApplicationFailure,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowExecutionInfo,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { loadManifest } from '../config/loadManifest';
import { loadManifestByReference } from '../activities/manifestSource';
import { tokenAllowedFor } from '../activities/gitWorkspace';
import { remoteProblems } from '../activities/remoteCheck';
import { UserError } from '../config/errors';
import { buildReleasePlan, dateStamp, ReleasePlan, releaseTitle } from '../release/plan';
import type { ReleaseKind } from '../release/version';
import { RELEASE_TASK_QUEUE } from '../config/taskQueues';
import { requireSearchAttributes } from './searchAttributeCheck';
import { releaseWorkflow, retagWorkflow } from '../workflows';
import type { TagResult } from '../activities/git';
import type { RetagRequest } from '../activities/retagTarget';
import { releaseStartRequest } from '../activities/releaseRecord';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ReleaseKindKey, ReleaseProductKey, ReleaseStageKey, ReleaseStatusKey, ReleaseVersionKey } from '../workflows/searchAttributes';
import { approveUpdate, operatorUpdate, rejectUpdate, releaseStateQuery } from '../workflows/api';
import { GateDecision, GateState, OperatorCommand, ReleaseRequest, ReleaseState } from '../release/model';

/** Which release of which manifest: what plan and start both take from the command line. */
export interface ReleaseTarget {
  kind: ReleaseKind;
  /** The manifest file, sent inside the request (workers configured for inline manifests)... */
  configFile: string;
  /**
   * ...or its name in the trusted manifest source (RELFLOW_MANIFEST_DIR or RELFLOW_MANIFEST_REPO),
   * read here to plan and by the worker to run.
   */
  manifestName?: string;
  manifestRef?: string;
  version?: string;
  pluginsVersion?: string;
  /** YYYYMMDD for a nightly; today (UTC) when absent. */
  date?: string;
}

export interface StartOptions extends ReleaseTarget {
  taskQueue?: string;
  buildTaskQueue?: string;
}

/** The target's manifest: from the trusted source by name (with what was read there), else the file. */
export async function targetManifest(target: ReleaseTarget) {
  const byReference = target.manifestName
    ? await loadManifestByReference(process.env, { name: target.manifestName, ref: target.manifestRef })
    : undefined;
  return { manifest: byReference?.manifest ?? loadManifest(target.configFile), byReference };
}

export interface PreparedRelease {
  request: ReleaseRequest;
  plan: ReleasePlan;
  taskQueue?: string;
}

/** Everything a start checks before it touches the server: the manifest, every name, every remote. */
export async function prepareRelease(options: StartOptions): Promise<PreparedRelease> {
  const { manifest, byReference } = await targetManifest(options);
  refuseManifestProblems(manifest, options.manifestName ?? options.configFile);
  const date = options.date ?? dateStamp(new Date());
  const plan = buildReleasePlan(manifest, { kind: options.kind, version: options.version, pluginsVersion: options.pluginsVersion, date });
  const request: ReleaseRequest = {
    ...(byReference
      ? { manifestRef: { name: byReference.source.name, ref: options.manifestRef, sha256: byReference.source.sha256 } }
      : { manifest, manifestFile: options.configFile }),
    kind: options.kind,
    version: options.version,
    pluginsVersion: options.pluginsVersion,
    date,
    buildTaskQueue: options.buildTaskQueue,
  };
  // Every repository's base branch reachable, and no release tag taken by an earlier release, before anything starts.
  const problems = await remoteProblems(
    plan,
    process.env,
    (url) => tokenAllowedFor(process.env, manifest.git.tokenEnv, url),
    manifest.git.parallelism,
  );
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  return { request, plan, taskQueue: options.taskQueue };
}

/** What the Web UI shows as the release's details: where its manifest came from, what it touches, how to follow it. */
export function releaseStartDetails({ request, plan }: Pick<PreparedRelease, 'request' | 'plan'>, continuesRun?: string): string {
  const manifest = request.manifestRef
    ? `\`${request.manifestRef.name}\`${request.manifestRef.ref ? ` at \`${request.manifestRef.ref}\`` : ''} from the workers' trusted source`
    : `\`${request.manifestFile ?? 'inline'}\``;
  const names = plan.repositories.map((repository) => repository.name);
  return [
    `Started by ${process.env.USER ?? 'unknown'} with \`relflow start ${plan.kind}\`${continuesRun ? `, continuing run ${continuesRun}` : ''}.`,
    '',
    `- manifest: ${manifest}`,
    `- repositories (${names.length}): ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`,
    `- follow it: \`relflow watch ${plan.releaseId}\`, \`relflow status ${plan.releaseId}\`, \`relflow report ${plan.releaseId}\``,
  ].join('\n');
}

export interface StartResult {
  plan: ReleasePlan;
  /** False when the release ID already succeeded: nothing was started and `state` is its result. */
  started: boolean;
  state?: ReleaseState;
  /** The earlier run a new run continues (it had been aborted, failed, cancelled or terminated). */
  continues?: ReleaseRun;
}

export async function startRelease(client: Client, options: StartOptions): Promise<StartResult> {
  return startPreparedRelease(client, await prepareRelease(options));
}

/**
 * Starts the release, or says what there already is. A release ID runs again
 * only when its last run did not succeed; the new run continues what that run
 * left (its base SHAs, so the build branches, tags, stored files and published
 * packages it made are found by the same checks and not made twice). A release
 * that succeeded is reported, not started; one that runs is refused.
 */
export async function startPreparedRelease(client: Client, { request, plan, taskQueue }: PreparedRelease): Promise<StartResult> {
  const previous = await lastRun(client, plan.releaseId);
  if (previous?.status === 'running' || previous?.status === 'waiting' || previous?.status === 'blocked') {
    throw new UserError(
      `release ${plan.releaseId} is already running (${previous.status}, started ${previous.started}); see \`relflow status ${plan.releaseId}\``,
    );
  }
  if (previous?.status === 'succeeded') return { plan, started: false, state: previous.state };
  const adopted: ReleaseRequest = previous
    ? { ...request, adopt: { runId: previous.runId, baseShas: await checkedOutBases(client, plan.releaseId, previous.runId) } }
    : request;
  try {
    await client.workflow.start(releaseWorkflow, {
      taskQueue: taskQueue ?? RELEASE_TASK_QUEUE,
      workflowId: plan.releaseId,
      args: [adopted],
      // The check above decided: a new run only after one that did not succeed. A run started meanwhile is refused by the server.
      workflowIdReusePolicy: previous ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
      staticSummary: releaseTitle(plan),
      staticDetails: releaseStartDetails({ request, plan }, previous?.runId),
      typedSearchAttributes: [
        { key: ReleaseProductKey, value: plan.product },
        { key: ReleaseKindKey, value: plan.kind },
        { key: ReleaseVersionKey, value: plan.releaseName },
        { key: ReleaseStageKey, value: 'plan' },
        { key: ReleaseStatusKey, value: 'running' },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new UserError(`release ${plan.releaseId} was started by someone else a moment ago; see \`relflow status ${plan.releaseId}\``);
    }
    // The server refuses a start whose search attributes the namespace does not define: say which, and how to create them.
    await requireSearchAttributes(client.connection.operatorService, client.options.namespace);
    throw error;
  }
  return { plan, started: true, continues: previous };
}

export interface ReleaseRun {
  runId: string;
  /** The release's own status (aborted, failed, succeeded...), or Temporal's when the run ended without saying (terminated, timed out). */
  status: string;
  started: string;
  closed?: string;
}

function quoted(value: string): string {
  return `'${value.replace(/['\\]/g, '')}'`;
}

function runOf(
  execution: Pick<WorkflowExecutionInfo, 'runId' | 'status' | 'typedSearchAttributes' | 'startTime' | 'closeTime'>,
): ReleaseRun {
  const temporalStatus = execution.status.name.toLowerCase();
  const attribute = execution.typedSearchAttributes.getAll().find((pair) => pair.key.name === ReleaseStatusKey.name)?.value;
  const ended = execution.status.name !== 'RUNNING';
  // A terminated or timed-out run never wrote its end into the attribute.
  const status =
    ended && (!attribute || ['running', 'waiting', 'blocked'].includes(String(attribute)))
      ? temporalStatus.replace('canceled', 'cancelled')
      : String(attribute ?? temporalStatus);
  return { runId: execution.runId, status, started: execution.startTime.toISOString(), closed: execution.closeTime?.toISOString() };
}

/** Every run of a release ID, oldest first. */
export async function releaseRuns(client: Client, releaseId: string): Promise<ReleaseRun[]> {
  const runs: ReleaseRun[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = ${quoted(releaseId)}` })) runs.push(runOf(execution));
  return runs.sort((a, b) => a.started.localeCompare(b.started));
}

/** The latest run of a release ID, read from the server itself (not the search index, which may lag). */
async function lastRun(client: Client, releaseId: string): Promise<(ReleaseRun & { state?: ReleaseState }) | undefined> {
  let description;
  try {
    description = await client.workflow.getHandle(releaseId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  const run = runOf(description);
  if (description.status.name !== 'COMPLETED') return run;
  // A completed run's own status (succeeded, aborted...) is in its result, the final state.
  const state = (await client.workflow.getHandle(releaseId, description.runId).result()) as ReleaseState;
  return { ...run, status: state.status, state };
}

/** The base SHA each repository was checked out at in a run, read from its history (no worker needed, whatever way the run ended). */
async function checkedOutBases(client: Client, releaseId: string, runId: string): Promise<Record<string, string>> {
  const history = await client.workflow.getHandle(releaseId, runId).fetchHistory();
  const scheduled = new Map<string, string>();
  const bases: Record<string, string> = {};
  for (const event of history.events ?? []) {
    const start = event.activityTaskScheduledEventAttributes;
    if (start?.activityType?.name === 'checkoutRepository' && start.input?.payloads?.[0]) {
      const input = defaultPayloadConverter.fromPayload(start.input.payloads[0]) as { repository?: { name?: string } };
      if (input.repository?.name) scheduled.set(String(event.eventId), input.repository.name);
    }
    const done = event.activityTaskCompletedEventAttributes;
    const name = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
    if (done && name && done.result?.payloads?.[0]) {
      const result = defaultPayloadConverter.fromPayload(done.result.payloads[0]) as { baseSha?: string };
      if (result.baseSha) bases[name] = result.baseSha;
    }
  }
  return bases;
}

/**
 * The release as its query answers. A finished release is read from its result
 * (its final state, in the history), so it needs no worker; a running one needs
 * a worker on its task queue, and when none polls it that worker is named
 * rather than waited for.
 */
export async function releaseState(client: Client, releaseId: string): Promise<ReleaseState> {
  const handle = client.workflow.getHandle(releaseId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new UserError(`no release with ID '${releaseId}' (see \`relflow list\`)`);
    throw error;
  }
  if (description.status.name === 'COMPLETED') return (await handle.result()) as ReleaseState;
  const noWorker = () =>
    new UserError(
      `release ${releaseId} (${description.status.name.toLowerCase()}) cannot answer: no worker polls its task queue '${description.taskQueue}'; ` +
        `start one with \`relflow worker --task-queue ${description.taskQueue}\``,
    );
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: description.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  if (!pollers?.length) throw noWorker();
  try {
    return await handle.query(releaseStateQuery);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    // The server lists pollers seen in the last minutes, so a worker that just stopped still counts: one that
    // polled within the last poll (a minute) is there, and the workflow task itself is what fails or is slow.
    const polling = pollers.some((poller) => Date.now() - Number(poller.lastAccessTime?.seconds ?? 0) * 1000 < 90_000);
    if (!polling) throw noWorker();
    const attempt = description.raw.pendingWorkflowTask?.attempt ?? 0;
    const reason = causeMessage(error).split('\n')[0];
    throw new UserError(
      `release ${releaseId} cannot answer now: a worker polls '${description.taskQueue}', but the release's workflow task ` +
        `${attempt > 1 ? `failed and is being retried (attempt ${attempt})` : 'did not answer in time (a busy worker, or a very long history)'}: ` +
        `${reason}; see the worker's log`,
    );
  }
}

/** Why an update was refused: the release's answer, or that it has ended, or that there is no such release. */
async function refusal(client: Client, releaseId: string, error: unknown): Promise<unknown> {
  if (error instanceof WorkflowNotFoundError) {
    const ended = await lastRun(client, releaseId).catch(() => undefined);
    if (ended) return new UserError(`refused: release ${releaseId} has ended (${ended.status}); see \`relflow status ${releaseId}\``);
    return new UserError(`no release with ID '${releaseId}' (see \`relflow list\`)`);
  }
  if (error instanceof WorkflowUpdateFailedError) {
    return new UserError(`refused: ${causeMessage(error)}`);
  }
  return error;
}

/** The namespace and the current run of a release: what a signed decision or command is bound to. */
export async function decisionScopeOf(client: Client, releaseId: string): Promise<{ namespace: string; release: string; run: string }> {
  try {
    const { runId } = await client.workflow.getHandle(releaseId).describe();
    return { namespace: client.options.namespace, release: releaseId, run: runId };
  } catch (error) {
    throw await refusal(client, releaseId, error);
  }
}

/** How long a decision waits for a release whose workflow task is being retried (a worker died, a slow task under a flood). */
const TASK_RETRY_WAIT_MS = 60_000;

/**
 * An update, sent again while the server refuses updates because the release's
 * workflow task failed and is being retried; past the wait, the reason in one line.
 */
async function updateRelease<T>(client: Client, releaseId: string, send: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + TASK_RETRY_WAIT_MS;
  for (;;) {
    try {
      return await send();
    } catch (error) {
      const failing = [error instanceof Error ? error.message : '', causeMessage(error)].some((message) =>
        /Workflow Task in failed state/i.test(message),
      );
      if (!failing) throw await refusal(client, releaseId, error);
      if (Date.now() > deadline) {
        throw new UserError(
          `release ${releaseId} takes no decision now: its workflow task keeps failing (see the worker log, and \`relflow status ${releaseId}\`); try again once it runs`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** The message of an error's cause (the server's or the workflow's words under the SDK's wrapper), else its own. */
function causeMessage(error: unknown): string {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

/** Approves or rejects a gate; the release answers at once, or refuses with the reason. */
export async function decideGate(client: Client, releaseId: string, decision: GateDecision, approve: boolean): Promise<GateState> {
  return updateRelease(client, releaseId, () =>
    client.workflow.getHandle(releaseId).executeUpdate(approve ? approveUpdate : rejectUpdate, { args: [decision] }),
  );
}

/** retry, skip or abort a blocked release. */
export async function operateRelease(client: Client, releaseId: string, command: OperatorCommand): Promise<string> {
  return updateRelease(client, releaseId, () => client.workflow.getHandle(releaseId).executeUpdate(operatorUpdate, { args: [command] }));
}

export interface ReleaseSummary {
  releaseId: string;
  kind: string;
  version: string;
  stage: string;
  status: string;
  started: string;
  runId: string;
}

/** Releases found through their search attributes (the Web UI filters by the same ones). */
export async function listReleases(
  client: Client,
  filters: { kind?: string; version?: string; status?: string; product?: string },
): Promise<ReleaseSummary[]> {
  const clauses = [`WorkflowType = 'releaseWorkflow'`];
  if (filters.kind) clauses.push(`ReleaseKind = ${quoted(filters.kind)}`);
  if (filters.version) clauses.push(`ReleaseVersion = ${quoted(filters.version)}`);
  if (filters.status) clauses.push(`ReleaseStatus = ${quoted(filters.status)}`);
  if (filters.product) clauses.push(`ReleaseProduct = ${quoted(filters.product)}`);
  const result: ReleaseSummary[] = [];
  for await (const execution of client.workflow.list({ query: clauses.join(' AND ') })) {
    const attribute = (key: { name: string }) =>
      String(execution.typedSearchAttributes.getAll().find((pair) => pair.key.name === key.name)?.value ?? '');
    result.push({
      releaseId: execution.workflowId,
      kind: attribute(ReleaseKindKey),
      version: attribute(ReleaseVersionKey),
      stage: attribute(ReleaseStageKey),
      status: runOf(execution).status,
      started: execution.startTime.toISOString(),
      runId: execution.runId,
    });
  }
  return result;
}

/** The request a release was started with, read back from the start of its history. */
export async function releaseRequest(client: Client, releaseId: string): Promise<ReleaseRequest> {
  const request = await releaseStartRequest(client, releaseId);
  if (!request) throw new UserError(`release ${releaseId} has no start input in its history`);
  return request;
}

/**
 * Runs the retag as a workflow of its own on the release workers, so it is
 * recorded and retried like the rest; it names the release and repository, and
 * the worker reads what to move from the release and refuses what it may not.
 */
export async function retagRelease(client: Client, request: RetagRequest, taskQueue?: string): Promise<TagResult> {
  try {
    return await client.workflow.execute(retagWorkflow, {
      taskQueue: taskQueue ?? RELEASE_TASK_QUEUE,
      workflowId: `${request.releaseId}/retag/${request.repository}/${Date.now()}`,
      staticSummary: `retag ${request.repository} of ${request.releaseId} by ${request.by}${request.force ? ' (forced)' : ''}`,
      args: [request],
    });
  } catch (error) {
    // The refusal is the workflow's own, or its activity's (one cause further).
    let cause = error instanceof WorkflowFailedError ? error.cause : undefined;
    while (cause && !(cause instanceof ApplicationFailure)) cause = cause.cause instanceof Error ? cause.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === 'RetagRefused') throw new UserError(`refused: ${cause.message}`);
    throw error;
  }
}
