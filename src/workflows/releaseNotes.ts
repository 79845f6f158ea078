import { notesQuery, releaseTitle, storageKey } from '../release/plan';
import type { StoredFile } from '../release/model';
import { activity } from './proxies';
import { planOf, releaseCommit, ReleaseContext } from './stage';

/**
 * What changed since the previous release of each repository's line: into the
 * release's state (the report, the email, the GitHub releases) and stored as
 * RELEASE-NOTES.md beside its files. The same commits give the same bytes, so
 * a second call stores nothing new.
 */
export async function recordReleaseNotes(context: ReleaseContext): Promise<StoredFile | undefined> {
  const plan = planOf(context);
  const { manifest, release, results } = context;
  const { notes, file } = await activity('writeReleaseNotes')({
    releaseId: release.state.releaseId,
    release: plan.releaseId,
    title: releaseTitle(plan),
    tokenEnv: manifest.git.tokenEnv,
    relflowEmail: manifest.git.author.email,
    repositories: plan.repositories.map((repository) => ({
      name: repository.name,
      url: repository.url,
      head: releaseCommit(context, repository.name),
      query: notesQuery(plan, manifest, repository),
    })),
    parallelism: manifest.git.parallelism,
    storage: manifest.storage as NonNullable<typeof manifest.storage>,
    key: storageKey(plan, manifest, 'RELEASE-NOTES.md'),
  });
  release.state.notes = notes;
  if (file) results.stored = [...results.stored.filter((stored) => stored.name !== file.name), file];
  return file;
}
