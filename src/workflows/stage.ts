import type { Manifest } from '../config/manifest';
import type { ReleasePlan } from '../release/plan';
import type { Gates } from './gates';
import type { ReleaseRequest, StageName, StoredFile } from '../release/model';
import type { ReleaseTracker } from './tracker';

/**
 * What each stage made, read by the later ones (the tracker only mirrors it
 * for the query): a stage's inputs are the results of the stages before it.
 */
export interface StageResults {
  /** checkout: the base SHA of each repository. */
  checkout: Map<string, string>;
  /** version: the build branch head after the version commit, and the files it changed. */
  version: Map<string, { headSha: string; changedFiles: string[] }>;
  /** tag: the commit each release tag points at. */
  tag: Map<string, string>;
  ci?: { passed: boolean; detail: string };
  /** specs and artifacts.json: the release's own stored files. */
  stored: StoredFile[];
  /** artifacts: the stored files of each artifact. */
  artifacts: Map<string, StoredFile[]>;
  systemTests?: { passed: boolean; detail: string };
  /** pypi: the files each repository has on the index. */
  published: Map<string, string[]>;
  /** docs: each repository's ReadTheDocs build. */
  docs: Map<string, 'built' | 'failed'>;
  /** checkout: an earlier run of the release did the work up to the artifacts (workflows/releasedWork.ts). */
  releasedBefore?: boolean;
}

export function emptyResults(): StageResults {
  return {
    checkout: new Map(),
    version: new Map(),
    tag: new Map(),
    stored: [],
    artifacts: new Map(),
    published: new Map(),
    docs: new Map(),
  };
}

/** What every stage reads and writes while the release runs. */
export interface ReleaseContext {
  request: ReleaseRequest;
  manifest: Manifest;
  release: ReleaseTracker;
  gates: Gates;
  /** Set by the plan stage. */
  plan?: ReleasePlan;
  results: StageResults;
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
  const { tag, version } = context.results;
  return (tag.get(repository) ?? version.get(repository)?.headSha) as string;
}

/** Why the stages after CI do not run, when they do not. */
export function testedSkipReason(context: ReleaseContext): string | undefined {
  const { ci, systemTests } = context.results;
  if (ci && !ci.passed) return `CI failed: ${ci.detail}`;
  if (systemTests && !systemTests.passed) return `system tests failed: ${systemTests.detail}`;
  return undefined;
}
