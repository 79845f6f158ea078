import type { Manifest } from '../config/manifest';
import type { ReleasePlan } from '../release/plan';
import type { Gates } from './gates';
import type { ReleaseRequest, StageName } from '../release/model';
import type { ReleaseTracker } from './tracker';

/** What every stage reads and writes while the release runs. */
export interface ReleaseContext {
  request: ReleaseRequest;
  manifest: Manifest;
  release: ReleaseTracker;
  gates: Gates;
  /** Set by the plan stage. */
  plan?: ReleasePlan;
}

/** A stage may end as failed without blocking the release (a red CI result). */
export interface StageOutcome {
  failed?: string;
  /** A gate stage whose gate was rejected (or timed out): the release goes on, and this stage shows `rejected`. */
  rejected?: string;
  detail?: string;
}

/** One step of the pipeline: a name, a rule for when it does not apply, and its one job. */
export interface Stage {
  name: StageName;
  /** Whether an operator may skip the stage when it is blocked. */
  skippable: boolean;
  /** The reason the stage does not run for this release, or undefined when it runs. */
  skip(context: ReleaseContext): string | undefined;
  run(context: ReleaseContext): Promise<StageOutcome | void>;
}

export function planOf(context: ReleaseContext): ReleasePlan {
  if (!context.plan) throw new Error('the plan stage has not run');
  return context.plan;
}

/** The commit a repository is built and published from: the tag's commit, or the build branch head for patches. */
export function releaseCommit(context: ReleaseContext, repository: string): string {
  const state = context.release.repository(repository);
  return (state.tagSha ?? state.headSha) as string;
}

/** Why the stages after CI do not run, when they do not. */
export function testedSkipReason(context: ReleaseContext): string | undefined {
  const { ci, systemTests } = context.release.state;
  if (ci && !ci.passed) return `CI failed: ${ci.detail}`;
  if (systemTests && !systemTests.passed) return `system tests failed: ${systemTests.detail}`;
  return undefined;
}
