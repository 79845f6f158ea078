import { githubReleasesTarget } from '../config/githubTarget';
import { githubReleaseBody } from '../release/notes';
import { releaseTitle } from '../release/plan';
import { releaseFiles } from '../release/report';
import { activity } from './proxies';
import { planOf, ReleaseContext } from './stage';

/**
 * The GitHub release of every tagged repository (github.releases): drafts
 * once the release's files and notes are stored, published by the announce
 * stage. Each carries the repository's notes and the release's files.
 */
export async function publishGithubReleases(context: ReleaseContext, draft: boolean): Promise<string> {
  const plan = planOf(context);
  const { manifest, release } = context;
  const target = githubReleasesTarget(manifest);
  const title = releaseTitle(plan);
  const files = releaseFiles(release.state);
  const tagged = plan.repositories.filter((repository) => repository.tag);
  const results = await activity('publishGithubReleases')({
    github: { apiUrl: target.apiUrl, owner: target.owner as string, tokenEnv: target.tokenEnv },
    releases: tagged.map((repository) => ({
      repository: repository.name,
      tag: repository.tag as string,
      name: `${title} (${repository.tag})`,
      body: githubReleaseBody(
        title,
        repository.name,
        release.state.notes?.find((notes) => notes.repository === repository.name),
        files,
      ),
      draft,
    })),
  });
  for (const result of results) release.repository(result.repository).githubRelease = { url: result.url, draft: result.draft };
  const created = results.filter((result) => result.created).length;
  return `${results.length} GitHub ${draft ? 'drafts' : 'releases'} (${created} created)`;
}
