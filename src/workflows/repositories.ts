import type { RepositoryPlan } from '../release/plan';
import { mapWithLimit } from '../release/concurrency';
import { planOf, ReleaseContext } from './stage';
import { fail, start, succeed } from './tracker';

/** One stage's work on one repository: when it is already done, what it shows while it runs, and the job (its detail when done). */
export interface RepositoryStep {
  /** The repositories the step is for (default: all of the plan). */
  repositories?: (repositories: readonly RepositoryPlan[]) => readonly RepositoryPlan[];
  isDone(repository: RepositoryPlan): boolean;
  starting(repository: RepositoryPlan): string;
  run(repository: RepositoryPlan): Promise<string>;
  /** At most this many at once (default: git.parallelism). */
  parallelism?: number;
}

/**
 * Runs a step over every repository, git.parallelism at a time, with each
 * repository's state kept for the query. A repository done before (an
 * operator's retry) is not run again; every repository runs even when one
 * fails, and the first failure is thrown once all have settled.
 */
export async function forEachRepository(context: ReleaseContext, step: RepositoryStep): Promise<void> {
  const all = planOf(context).repositories;
  const repositories = step.repositories ? step.repositories(all) : all;
  await mapWithLimit(repositories, step.parallelism ?? context.manifest.git.parallelism, async (repository) => {
    if (step.isDone(repository)) return;
    const state = context.release.repository(repository.name);
    start(state, step.starting(repository));
    try {
      succeed(state, await step.run(repository));
    } catch (error) {
      fail(state, error);
      throw error;
    }
  });
}
