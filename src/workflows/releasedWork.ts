import { patched } from '@temporalio/workflow';
import { storageKey } from '../release/plan';
import type { StageName } from '../release/model';
import { countOf } from '../release/wording';
import { activity } from './proxies';
import { recordReleaseNotes } from './releaseNotes';
import { planOf, ReleaseContext } from './stage';
import { succeed } from './tracker';

/** The stages whose work an earlier run of the release can have finished: all of it is in its tags and stored files. */
const RELEASED_STAGES: readonly StageName[] = ['version', 'tag', 'ci', 'specs', 'artifacts'];

/**
 * The release-level shortcut: a release started again over work an earlier
 * run finished (every tag on its build branch, every file of artifacts.json
 * stored with its sha256) records that work from one look instead of ~100
 * per-repository checks, and goes on with the stages still to do. Only
 * releases with tags and artifacts qualify; anything less runs every stage,
 * each of which keeps what is already done. Returns what the checkout says.
 */
export async function takeReleasedWork(context: ReleaseContext): Promise<string | undefined> {
  const plan = planOf(context);
  const { manifest, release, results } = context;
  const storage = manifest.storage;
  if (!storage || manifest.artifacts.length === 0 || !plan.repositories.every((repository) => repository.tag)) return undefined;
  if (!patched('released-work')) return undefined;
  const found = await activity('findReleasedWork', { summary: `work of an earlier run of ${release.state.releaseId}` })({
    repositories: plan.repositories.map(({ name, url, tag, buildBranch }) => ({ name, url, tag: tag as string, buildBranch })),
    artifacts: manifest.artifacts.map((artifact) => artifact.name),
    tokenEnv: manifest.git.tokenEnv,
    parallelism: manifest.git.parallelism,
    storage,
    keyPrefix: storageKey(plan, manifest, ''),
  });
  if (!found) return undefined;
  if (found.build !== undefined) plan.build = release.state.build = found.build;
  for (const repository of plan.repositories) {
    const sha = found.commits[repository.name];
    results.checkout.set(repository.name, sha);
    results.version.set(repository.name, { headSha: sha, changedFiles: [] });
    results.tag.set(repository.name, sha);
    const state = release.repository(repository.name);
    Object.assign(state, { headSha: sha, tagSha: sha });
    succeed(state, `tagged ${repository.tag} at ${sha.slice(0, 12)} by an earlier run`);
  }
  const artifacts = new Set(manifest.artifacts.map((artifact) => artifact.name));
  for (const artifact of manifest.artifacts) {
    const files = found.files.filter((file) => file.name === artifact.name);
    results.artifacts.set(artifact.name, files);
    const state = release.artifact(artifact.name, artifact.builder);
    state.files = files;
    succeed(state, `${countOf(files.length, 'file')} stored by an earlier run`);
  }
  results.stored = found.files.filter((file) => !artifacts.has(file.name));
  // The notes the email and the GitHub releases carry (the stored RELEASE-NOTES.md is the same bytes again).
  await recordReleaseNotes(context);
  release.state.stored = results.stored;
  results.releasedBefore = true;
  return `every repository tagged and every file stored by an earlier run of this release: ${RELEASED_STAGES.join(', ')} done`;
}

/** Why a stage does not run again: its work was found done (takeReleasedWork). */
export function releasedWorkSkipReason(context: ReleaseContext, stage: StageName): string | undefined {
  return context.results.releasedBefore && RELEASED_STAGES.includes(stage) ? 'done by an earlier run of this release' : undefined;
}
