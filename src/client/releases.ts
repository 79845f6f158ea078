import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { loadManifest } from '../config/loadManifest';
import { remoteBranchSha } from '../activities/gitWorkspace';
import { UserError } from '../release/errors';
import { buildReleasePlan, dateStamp, ReleasePlan } from '../release/plan';
import type { ReleaseKind } from '../release/version';
import { RELEASE_TASK_QUEUE } from '../worker/worker';
import { releaseWorkflow } from '../workflows';
import { ReleaseKindKey, ReleaseProductKey, ReleaseStageKey, ReleaseStatusKey, ReleaseVersionKey } from '../workflows/searchAttributes';
import {
  approveUpdate,
  GateDecision,
  GateState,
  OperatorCommand,
  operatorUpdate,
  rejectUpdate,
  releaseStateQuery,
  ReleaseRequest,
  ReleaseState,
} from '../workflows/state';

export interface StartOptions {
  kind: ReleaseKind;
  configFile: string;
  version?: string;
  pluginsVersion?: string;
  /** YYYYMMDD for a nightly; today (UTC) when absent. */
  date?: string;
  taskQueue?: string;
  buildTaskQueue?: string;
}

/** Every repository's base branch must be reachable before anything starts. */
async function checkRemotes(plan: ReleasePlan, tokenEnv?: string): Promise<void> {
  const problems = await Promise.all(
    plan.repositories.map(async (repository, index) => {
      try {
        const sha = await remoteBranchSha(repository.url, repository.baseBranch, process.env, tokenEnv);
        return sha ? undefined : `repositories[${index}] (${repository.name}): branch '${repository.baseBranch}' does not exist on ${repository.url}`;
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').filter(Boolean)[0];
        return `repositories[${index}].url: cannot reach '${repository.url}': ${reason}`;
      }
    }),
  );
  const found = problems.filter((problem): problem is string => Boolean(problem));
  if (found.length > 0) throw new UserError(found.join('\n'));
}

export interface PreparedRelease {
  request: ReleaseRequest;
  plan: ReleasePlan;
  taskQueue?: string;
}

/** Everything a start checks before it touches the server: the manifest, every name, every remote. */
export async function prepareRelease(options: StartOptions): Promise<PreparedRelease> {
  const manifest = loadManifest(options.configFile);
  const date = options.date ?? dateStamp(new Date());
  const plan = buildReleasePlan(manifest, { kind: options.kind, version: options.version, pluginsVersion: options.pluginsVersion, date });
  const request: ReleaseRequest = {
    manifest,
    manifestFile: options.configFile,
    kind: options.kind,
    version: options.version,
    pluginsVersion: options.pluginsVersion,
    date,
    buildTaskQueue: options.buildTaskQueue,
  };
  await checkRemotes(plan, manifest.git.tokenEnv);
  return { request, plan, taskQueue: options.taskQueue };
}

export async function startRelease(client: Client, options: StartOptions): Promise<ReleasePlan> {
  return startPreparedRelease(client, await prepareRelease(options));
}

export async function startPreparedRelease(client: Client, { request, plan, taskQueue }: PreparedRelease): Promise<ReleasePlan> {
  try {
    await client.workflow.start(releaseWorkflow, {
      taskQueue: taskQueue ?? RELEASE_TASK_QUEUE,
      workflowId: plan.releaseId,
      args: [request],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `${plan.product} ${plan.kind} release ${plan.releaseName}`,
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
      const existing = await client.workflow.getHandle(plan.releaseId).describe();
      throw new UserError(
        `release ${plan.releaseId} already exists (${existing.status.name.toLowerCase()}, started ${existing.startTime.toISOString()}); ` +
          `see \`relflow status ${plan.releaseId}\``,
      );
    }
    throw error;
  }
  return plan;
}

export async function releaseState(client: Client, releaseId: string): Promise<ReleaseState> {
  const handle = client.workflow.getHandle(releaseId);
  try {
    return await handle.query(releaseStateQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new UserError(`no release with ID '${releaseId}' (see \`relflow list\`)`);
    throw error;
  }
}

function refusal(error: unknown): UserError | unknown {
  if (error instanceof WorkflowNotFoundError) return new UserError(`no running release with that ID (see \`relflow list\`)`);
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    return new UserError(`refused: ${cause}`);
  }
  return error;
}

/** Approves or rejects a gate; the release answers at once, or refuses with the reason. */
export async function decideGate(client: Client, releaseId: string, decision: GateDecision, approve: boolean): Promise<GateState> {
  try {
    return await client.workflow.getHandle(releaseId).executeUpdate(approve ? approveUpdate : rejectUpdate, { args: [decision] });
  } catch (error) {
    throw refusal(error);
  }
}

/** retry, skip or abort a blocked release. */
export async function operateRelease(client: Client, releaseId: string, command: OperatorCommand): Promise<string> {
  try {
    return await client.workflow.getHandle(releaseId).executeUpdate(operatorUpdate, { args: [command] });
  } catch (error) {
    throw refusal(error);
  }
}
