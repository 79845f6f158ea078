import { refuseUnlessChild } from './childOfRelease';
import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  ChildWorkflowCancellationType,
  uuid4,
} from '@temporalio/workflow';
import type { ReleaseActivities } from '../activities';
import type { RepositoryPlan } from '../release/plan';
import { mapWithLimit } from '../release/concurrency';
import { activity } from './proxies';
import { planOf, ReleaseContext } from './stage';
import { errorMessage, fail, start, succeed } from './tracker';

/** The activities a stage runs once per repository: the only ones a batch runs. */
const REPOSITORY_ACTIVITIES = ['checkoutRepository', 'versionRepository', 'tagRepository', 'publishPythonPackage', 'buildDocs'] as const;
export type RepositoryActivity = (typeof REPOSITORY_ACTIVITIES)[number];
type InputOf<K extends RepositoryActivity> = Parameters<ReleaseActivities[K]>[0];
type ResultOf<K extends RepositoryActivity> = Awaited<ReturnType<ReleaseActivities[K]>>;

/**
 * One stage's work on one repository, as data: which activity with which
 * input, when it is already done, what it shows while it runs, and what its
 * result means (its detail when done; it may throw to fail the repository).
 */
export interface RepositoryStep<K extends RepositoryActivity> {
  activity: K;
  /** The repositories the step is for (default: all of the plan). */
  repositories?: (repositories: readonly RepositoryPlan[]) => readonly RepositoryPlan[];
  isDone(repository: RepositoryPlan): boolean;
  starting(repository: RepositoryPlan): string;
  /** The Web UI's summary of the activity. */
  summary?(repository: RepositoryPlan): string;
  input(repository: RepositoryPlan): InputOf<K>;
  done(repository: RepositoryPlan, result: ResultOf<K>): string;
  /** At most this many at once (default: git.parallelism). */
  parallelism?: number;
  /** Fail with every repository's failure, not the first one's. */
  reportEveryFailure?: boolean;
}

/**
 * Above this many repositories a stage runs its activities in child workflows
 * of this many each, so the release's own history grows by a few events per
 * batch instead of a few per repository (a history holds 51,200 events).
 */
export const REPOSITORY_BATCH = 100;

export interface RepositoryBatchInput {
  activity: RepositoryActivity;
  items: { repository: string; summary?: string; input: unknown }[];
  parallelism: number;
}

export type RepositoryBatchOutcome = { repository: string; result: unknown } | { repository: string; error: string; type: string };

/** A batch of one stage's repository activities; each repository's outcome, failures included. */
export async function repositoryBatchWorkflow(batch: RepositoryBatchInput): Promise<RepositoryBatchOutcome[]> {
  // Any client of the namespace can start a batch: it must not become a way to run the workers' other activities (signing).
  if (!(REPOSITORY_ACTIVITIES as readonly unknown[]).includes(batch?.activity)) {
    throw ApplicationFailure.nonRetryable(
      `repositoryBatchWorkflow: activity must be one of ${REPOSITORY_ACTIVITIES.join(', ')}, got ${JSON.stringify(batch?.activity)?.slice(0, 60)}`,
      'InvalidBatch',
    );
  }
  if (
    !Array.isArray(batch.items) ||
    batch.items.length > REPOSITORY_BATCH ||
    !Number.isInteger(batch.parallelism) ||
    batch.parallelism < 1
  ) {
    throw ApplicationFailure.nonRetryable(
      `repositoryBatchWorkflow: items must be a list of at most ${REPOSITORY_BATCH} and parallelism a positive integer`,
      'InvalidBatch',
    );
  }
  refuseUnlessChild('repositoryBatchWorkflow');
  return mapWithLimit(batch.items, batch.parallelism, async (item): Promise<RepositoryBatchOutcome> => {
    const run = activity(batch.activity, item.summary ? { summary: item.summary } : {}) as (input: unknown) => Promise<unknown>;
    try {
      return { repository: item.repository, result: await run(item.input) };
    } catch (error) {
      if (isCancellation(error)) throw error;
      return { repository: item.repository, error: errorMessage(error), type: failureType(error) };
    }
  });
}

function failureType(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure && current.type) return current.type;
    current = (current as { cause?: unknown }).cause;
  }
  return 'RepositoryFailed';
}

/**
 * Runs a step over every repository, git.parallelism at a time, with each
 * repository's state kept for the query. A repository done before (an
 * operator's retry) is not run again; every repository runs even when one
 * fails, and the first failure is thrown once all have settled.
 */
export async function forEachRepository<K extends RepositoryActivity>(context: ReleaseContext, step: RepositoryStep<K>): Promise<void> {
  const all = planOf(context).repositories;
  const repositories = (step.repositories ? step.repositories(all) : all).filter((repository) => !step.isDone(repository));
  const parallelism = step.parallelism ?? context.manifest.git.parallelism;
  const finish = (repository: RepositoryPlan, result: ResultOf<K>): void => {
    const state = context.release.repository(repository.name);
    try {
      succeed(state, step.done(repository, result));
    } catch (error) {
      fail(state, error);
      throw error;
    }
  };
  const failures: unknown[] = [];
  if (repositories.length > REPOSITORY_BATCH && patched('repository-batches')) {
    await runInBatches(context, step, repositories, parallelism, finish, failures);
  } else {
    await mapWithLimit(repositories, parallelism, async (repository) => {
      const state = context.release.repository(repository.name);
      start(state, step.starting(repository));
      try {
        const run = activity(step.activity, step.summary ? { summary: step.summary(repository) } : {}) as (
          input: InputOf<K>,
        ) => Promise<ResultOf<K>>;
        const result = await run(step.input(repository));
        finish(repository, result);
      } catch (error) {
        if (isCancellation(error)) throw error;
        if (state.status === 'running') fail(state, error);
        failures.push(error);
      }
    });
  }
  if (failures.length === 0) return;
  if (step.reportEveryFailure) throw new Error(failures.map(errorMessage).join('; '));
  throw failures[0];
}

async function runInBatches<K extends RepositoryActivity>(
  context: ReleaseContext,
  step: RepositoryStep<K>,
  repositories: readonly RepositoryPlan[],
  parallelism: number,
  finish: (repository: RepositoryPlan, result: ResultOf<K>) => void,
  failures: unknown[],
): Promise<void> {
  const releaseId = context.release.state.releaseId;
  const byName = new Map(repositories.map((repository) => [repository.name, repository]));
  // One batch at a time, each with the whole parallelism: the release's machine load stays what git.parallelism says.
  for (let offset = 0, index = 1; offset < repositories.length; offset += REPOSITORY_BATCH, index += 1) {
    const batch = repositories.slice(offset, offset + REPOSITORY_BATCH);
    for (const repository of batch) start(context.release.repository(repository.name), step.starting(repository));
    const outcomes = await executeChild(repositoryBatchWorkflow, {
      // A stage retried by an operator runs new batches: the ids differ.
      workflowId: `${releaseId}/${step.activity}/${index}-${uuid4().slice(0, 8)}`,
      staticSummary: `${releaseId}: ${step.activity} of ${batch.length} repositories (${batch[0].name} to ${batch[batch.length - 1].name})`,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      args: [
        {
          activity: step.activity,
          parallelism,
          items: batch.map((repository) => ({
            repository: repository.name,
            summary: step.summary?.(repository),
            input: step.input(repository),
          })),
        },
      ],
    });
    for (const outcome of outcomes) {
      const repository = byName.get(outcome.repository) as RepositoryPlan;
      if ('error' in outcome) {
        const failure = ApplicationFailure.create({ message: outcome.error, type: outcome.type, nonRetryable: true });
        fail(context.release.repository(repository.name), failure);
        failures.push(failure);
        continue;
      }
      try {
        finish(repository, outcome.result as ResultOf<K>);
      } catch (error) {
        failures.push(error);
      }
    }
  }
}
