import { GithubApi, githubPages, githubRequest } from './githubApi';
import { heartbeat } from './process';
import { readSecret } from './secrets';

export interface GithubReleaseSpec {
  /** The repository's name on GitHub (its name in the manifest). */
  repository: string;
  tag: string;
  name: string;
  body: string;
  draft: boolean;
}

export interface GithubReleasesInput {
  github: { apiUrl: string; owner: string; tokenEnv?: string };
  releases: GithubReleaseSpec[];
}

export interface GithubReleaseResult {
  repository: string;
  tag: string;
  id: number;
  url: string;
  draft: boolean;
  /** False when the release was there already (found by its tag) and was updated, or left as it was. */
  created: boolean;
}

interface Release {
  id: number;
  tag_name: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  html_url: string;
}

const DEADLINE_MS = 30 * 60_000;

/**
 * One GitHub release per repository for its tag, made or brought up to date:
 * found by its tag first (in the list, where drafts show: a draft has no tag
 * until it is published), created only when there is none, and a create that
 * GitHub refuses as `already_exists` (a run that created it died before it
 * heard) is settled by finding it again. Never a second release of a tag.
 */
export function createGithubReleaseActivities(env: NodeJS.ProcessEnv) {
  return {
    async publishGithubReleases(input: GithubReleasesInput): Promise<GithubReleaseResult[]> {
      const { github } = input;
      const api: GithubApi = {
        apiUrl: github.apiUrl,
        token: readSecret(env, 'github.tokenEnv', github.tokenEnv, github.apiUrl),
        tokenField: 'github.tokenEnv',
        unauthorized: 'GithubUnauthorized',
      };
      const deadline = Date.now() + DEADLINE_MS;
      const results: GithubReleaseResult[] = [];
      for (const spec of input.releases) {
        heartbeat({ githubRelease: spec.repository });
        const base = `/repos/${encodeURIComponent(github.owner)}/${encodeURIComponent(spec.repository)}/releases`;
        const find = async () =>
          (await githubPages<Release>(api, base, undefined, deadline)).items.find((release) => release.tag_name === spec.tag);
        let existing = await find();
        if (!existing) {
          const response = await githubRequest(api, 'POST', base, deadline, {
            tag_name: spec.tag,
            name: spec.name,
            body: spec.body,
            draft: spec.draft,
          });
          if (response.ok) {
            const created = (await response.json()) as Release;
            results.push({
              repository: spec.repository,
              tag: spec.tag,
              id: created.id,
              url: created.html_url,
              draft: created.draft,
              created: true,
            });
            continue;
          }
          const refusal = await response.text();
          if (response.status !== 422 || !refusal.includes('already_exists'))
            throw new Error(`GitHub API POST ${base}: HTTP ${response.status} ${refusal.slice(0, 200)}`);
          existing = await find();
          if (!existing) throw new Error(`GitHub API POST ${base}: tag ${spec.tag} already has a release that the list does not show`);
        }
        let release = existing;
        if (existing.name !== spec.name || (existing.body ?? '') !== spec.body || existing.draft !== spec.draft) {
          // A published release is never turned back into a draft: a re-run of an earlier stage leaves it public.
          const draft = existing.draft && spec.draft;
          const response = await githubRequest(api, 'PATCH', `${base}/${existing.id}`, deadline, {
            name: spec.name,
            body: spec.body,
            draft,
          });
          if (!response.ok)
            throw new Error(`GitHub API PATCH ${base}/${existing.id}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
          release = (await response.json()) as Release;
        }
        results.push({
          repository: spec.repository,
          tag: spec.tag,
          id: release.id,
          url: release.html_url,
          draft: release.draft,
          created: false,
        });
      }
      return results;
    },
  };
}
