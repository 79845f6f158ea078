import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
import { createGithubReleaseActivities } from '../../src/activities/githubReleases';
import { startGithubApi } from '../support/fakeSaas';
import { validateManifest } from '../../src/config/loadManifest';
import { githubReleasesTarget } from '../../src/config/githubTarget';

const TOKEN = 'ghp_release-writer-token-0001';

describe('GitHub releases (the GitHub API stand-in)', function () {
  const env = { ...process.env, TEST_GITHUB_TOKEN: TOKEN };
  const spec = (repository: string, draft: boolean, body = `notes of ${repository}`) => ({
    repository,
    tag: '3.4',
    name: `cloudify ga release 3.4 (3.4)`,
    body,
    draft,
  });

  it('drafts, then publishes, one release per tag: a re-run finds it by its tag (drafts in the list) and makes no second', async function () {
    const api = await startGithubApi({}, { token: TOKEN });
    try {
      const { publishGithubReleases } = createGithubReleaseActivities(env);
      const github = { apiUrl: api.url, owner: 'cloudify-cosmo', tokenEnv: 'TEST_GITHUB_TOKEN' };
      const drafts = await publishGithubReleases({ github, releases: [spec('cloudify-manager', true), spec('cloudify-ui', true)] });
      assert.deepEqual(
        drafts.map((result) => [result.repository, result.draft, result.created]),
        [
          ['cloudify-manager', true, true],
          ['cloudify-ui', true, true],
        ],
      );
      // A retried artifacts stage: the drafts are found in the list (GET .../releases/tags/3.4 does not show drafts).
      const again = await publishGithubReleases({
        github,
        releases: [spec('cloudify-manager', true), spec('cloudify-ui', true, 'newer notes')],
      });
      assert.deepEqual(
        again.map((result) => result.created),
        [false, false],
      );
      assert.equal(api.releases.length, 2);
      assert.equal(api.releases.find((release) => release.repository === 'cloudify-ui')?.body, 'newer notes', 'brought up to date');
      const published = await publishGithubReleases({ github, releases: [spec('cloudify-manager', false), spec('cloudify-ui', false)] });
      assert.deepEqual(
        published.map((result) => [result.draft, result.created, result.url]),
        [
          [false, false, 'https://github.local/cloudify-cosmo/cloudify-manager/releases/tag/3.4'],
          [false, false, 'https://github.local/cloudify-cosmo/cloudify-ui/releases/tag/3.4'],
        ],
      );
      // The announce stage run again, and a retried artifacts stage after it: nothing new, nothing turned back into a draft.
      await publishGithubReleases({ github, releases: [spec('cloudify-manager', false)] });
      await publishGithubReleases({ github, releases: [spec('cloudify-manager', true)] });
      assert.deepEqual(
        api.releases.map((release) => [release.repository, release.tag_name, release.draft]),
        [
          ['cloudify-manager', '3.4', false],
          ['cloudify-ui', '3.4', false],
        ],
      );
      assert.ok(api.requests.every((request) => request.headers.authorization === `Bearer ${TOKEN}`));
    } finally {
      await api.close();
    }
  });

  it('a release made by a run that died before it heard: the create is refused as already_exists, and the release is found and updated', async function () {
    const api = await startGithubApi({}, { releaseListLag: 1 });
    try {
      api.releases.push({
        id: 7,
        repository: 'cloudify-manager',
        tag_name: '3.4',
        name: 'old',
        body: 'old',
        draft: false,
        html_url: 'https://github.local/cloudify-cosmo/cloudify-manager/releases/tag/3.4',
      });
      // The first list answers empty, as it did before the other run's create landed.
      const { publishGithubReleases } = createGithubReleaseActivities(env);
      const github = { apiUrl: api.url, owner: 'cloudify-cosmo', tokenEnv: 'TEST_GITHUB_TOKEN' };
      const [result] = await publishGithubReleases({ github, releases: [spec('cloudify-manager', false)] });
      assert.ok(
        api.requests.some((request) => request.method === 'POST'),
        'the create was tried and refused',
      );
      assert.equal(result.created, false);
      assert.equal(result.id, 7);
      assert.equal(api.releases.length, 1, 'no second release of the tag');
      assert.equal(api.releases[0].body, 'notes of cloudify-manager');
    } finally {
      await api.close();
    }
  });

  it("the manifest: github.releases needs an owner and a token (its own or the github CI provider's) and storage", function () {
    const base = {
      product: 'p',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: '/srv/core.git', pypi: false }],
    };
    assert.throws(
      () => validateManifest({ ...base, github: { releases: true } }, 'relflow.yaml'),
      (error: Error) =>
        /github\.owner: required with github\.releases: true/.test(error.message) &&
        /github\.tokenEnv: required with github\.releases: true/.test(error.message) &&
        /storage: required with github\.releases: true/.test(error.message),
    );
    const manifest = validateManifest(
      {
        ...base,
        storage: { bucket: 'releases' },
        ci: { provider: 'github', owner: 'cloudify-cosmo', tokenEnv: 'GITHUB_TOKEN' },
        github: { releases: true },
      },
      'relflow.yaml',
    );
    assert.deepEqual(githubReleasesTarget(manifest), {
      apiUrl: 'https://api.github.com',
      owner: 'cloudify-cosmo',
      tokenEnv: 'GITHUB_TOKEN',
    });
  });

  it('a refused token is permanent and names github.tokenEnv, never the token', async function () {
    const api = await startGithubApi({}, { token: 'another' });
    try {
      const { publishGithubReleases } = createGithubReleaseActivities(env);
      await assert.rejects(
        publishGithubReleases({
          github: { apiUrl: api.url, owner: 'cloudify-cosmo', tokenEnv: 'TEST_GITHUB_TOKEN' },
          releases: [spec('cloudify-manager', true)],
        }),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure);
          assert.equal(error.type, 'GithubUnauthorized');
          assert.equal(error.nonRetryable, true);
          assert.match(error.message, /HTTP 401; check github\.tokenEnv/);
          assert.doesNotMatch(error.message, new RegExp(TOKEN));
          return true;
        },
      );
    } finally {
      await api.close();
    }
  });
});
