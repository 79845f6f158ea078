import type { Manifest } from '../config/manifest';
import type { ReleasePlan } from '../release/plan';
import type { ReleaseRequest, StageName } from './state';
import type { ReleaseTracker } from './tracker';

/** What every stage reads and writes while the release runs. */
export interface ReleaseContext {
  request: ReleaseRequest;
  manifest: Manifest;
  release: ReleaseTracker;
  /** Set by the plan stage. */
  plan?: ReleasePlan;
}

/** One step of the pipeline: a name, a rule for when it does not apply, and its one job. */
export interface Stage {
  name: StageName;
  /** The reason the stage does not run for this release, or undefined when it runs. */
  skip(context: ReleaseContext): string | undefined;
  run(context: ReleaseContext): Promise<void>;
}

export function planOf(context: ReleaseContext): ReleasePlan {
  if (!context.plan) throw new Error('the plan stage has not run');
  return context.plan;
}
