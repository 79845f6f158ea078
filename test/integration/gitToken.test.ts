import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGitActivities } from '../../src/activities/git';
import { gitEnvironment, GitWorkspace } from '../../src/activities/gitWorkspace';
import { planRelease } from '../../src/client/actions/plan';
import { prepareRelease } from '../../src/client/releases';
import { buildReleasePlan, repositoryTemplateValues } from '../../src/release/plan';
import { concreteRules } from '../../src/release/versionRules';
import { startGitHttpServer, GitHttpServer } from '../support/gitHttp';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { manifestOf, writeManifest } from '../support/manifests';
import { tempDir } from '../support/temporal';

const TOKEN = 'ghp_token-for-the-release-bot-1234';
const author = { name: 'Release Bot', email: 'release@example.com' };

describe('git over https with git.tokenEnv (git http-backend behind an Authorization check)', function () {
  let root: string;
  let remotes: string;
  let server: GitHttpServer;
  let elsewhere: GitHttpServer;

  before(async function () {
    root = tempDir('git-token');
    remotes = join(root, 'remotes');
    createRemote(root, { name: 'cloudify-rest-client', files: { 'setup.py': "setup(name='cloudify-rest-client', version='3.3')\n" } });
    createRemote(root, { name: 'moved-plugin', files: { 'setup.py': "setup(name='moved-plugin', version='1.3')\n" } });
    // A second host that serves without authentication: a moved repository's new home.
    elsewhere = await startGitHttpServer(remotes);
    server = await startGitHttpServer(remotes, { token: TOKEN, redirect: { prefix: '/old/', to: `${elsewhere.url}/` } });
  });

  after(async function () {
    await server.close();
    await elsewhere.close();
  });

  function setup(env: NodeJS.ProcessEnv, url = `${server.url}/cloudify-rest-client.git`) {
    const manifest = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      git: { tokenEnv: 'RELFLOW_TEST_GIT_TOKEN' },
      repositories: [{ name: 'cloudify-rest-client', url }],
      versionRules: [{ preset: 'setup.py', required: true }],
    });
    const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
    const repository = plan.repositories[0];
    const workspace = new GitWorkspace(tempDir('token-workspace'), { ...process.env, ...env });
    const activities = createGitActivities(workspace);
    const ref = {
      releaseId: `${plan.releaseId}-${Math.random().toString(36).slice(2, 8)}`,
      repository,
      tokenEnv: 'RELFLOW_TEST_GIT_TOKEN',
    };
    const versionInput = (baseSha: string) => ({
      ...ref,
      baseSha,
      rules: concreteRules(manifest.versionRules),
      values: repositoryTemplateValues(plan, manifest, repository),
      author,
      message: plan.commitMessage,
    });
    return { manifest, plan, repository, activities, ref, versionInput, workspace };
  }

  async function refusedFast(promise: Promise<unknown>, type: string, pattern: RegExp): Promise<void> {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
      assert.equal(error.type, type);
      assert.equal(error.nonRetryable, true, 'a refused credential is not retried');
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, new RegExp(TOKEN), 'the token is not in the error');
      return true;
    });
  }

  it('clones, fetches, pushes a version commit and a tag with the token', async function () {
    const { activities, ref, versionInput } = setup({ RELFLOW_TEST_GIT_TOKEN: TOKEN });
    const bare = join(remotes, 'cloudify-rest-client.git');
    const { baseSha } = await activities.checkoutRepository(ref);
    assert.equal(baseSha, remoteSha(bare, 'master'));
    // A second checkout of the same release fetches the working copy.
    assert.equal((await activities.checkoutRepository(ref)).baseSha, baseSha);
    const version = await activities.versionRepository(versionInput(baseSha));
    assert.equal(version.committed, true);
    assert.equal(remoteSha(bare, '3.4-build'), version.headSha);
    const tag = await activities.tagRepository({ ...ref, tag: '3.4', sha: version.headSha, message: 'Release 3.4', author });
    assert.equal(tag.created, true);
    assert.equal(git(bare, 'rev-parse', '3.4^{commit}'), version.headSha);
    const authorized = server.seen.filter((request) => request.authorization);
    assert.ok(
      authorized.some((request) => request.path.endsWith('/git-receive-pack')),
      'the push carried the token',
    );
    git(bare, 'update-ref', '-d', 'refs/heads/3.4-build');
    git(bare, 'tag', '-d', '3.4');
  });

  it('pushes the version commit and its tag in one atomic push: one receive-pack request', async function () {
    const { activities, ref, versionInput } = setup({ RELFLOW_TEST_GIT_TOKEN: TOKEN });
    const bare = join(remotes, 'cloudify-rest-client.git');
    const { baseSha } = await activities.checkoutRepository(ref);
    const pushesBefore = server.seen.filter((request) => request.method === 'POST' && request.path.endsWith('/git-receive-pack')).length;
    const version = await activities.versionRepository({ ...versionInput(baseSha), tag: '3.4' });
    const pushes = server.seen.filter((request) => request.method === 'POST' && request.path.endsWith('/git-receive-pack')).length;
    assert.equal(pushes - pushesBefore, 1, 'branch and tag in one push');
    assert.deepEqual(version.tagged, { tag: '3.4', sha: version.headSha, created: true });
    assert.equal(remoteSha(bare, '3.4-build'), version.headSha);
    assert.equal(git(bare, 'rev-parse', '3.4^{commit}'), version.headSha);
    git(bare, 'update-ref', '-d', 'refs/heads/3.4-build');
    git(bare, 'tag', '-d', '3.4');
  });

  it('asks the remote once per checkout (the working copy is cloned from the mirror) and builds from the working copy', async function () {
    const { activities, ref, versionInput, workspace } = setup({ RELFLOW_TEST_GIT_TOKEN: TOKEN });
    const bare = join(remotes, 'cloudify-rest-client.git');
    const requests = () => server.seen.filter((request) => request.path.startsWith('/cloudify-rest-client.git/')).length;
    const negotiations = () =>
      server.seen.filter((request) => request.path === '/cloudify-rest-client.git/info/refs' && request.method === 'GET').length;
    const before = negotiations();
    const { baseSha } = await activities.checkoutRepository(ref);
    assert.equal(negotiations() - before, 1, 'one clone of the mirror; the working copy came from it');
    const version = await activities.versionRepository({ ...versionInput(baseSha), tag: '3.4' });
    assert.equal(remoteSha(bare, '3.4-build'), version.headSha, 'the working copy pushes to the remote');
    const requestsBefore = requests();
    const build = join(tempDir('build-source'), 'src');
    await workspace.checkOutCommit('cloudify-rest-client', ref.repository.url, version.headSha, build, {
      tokenEnv: 'RELFLOW_TEST_GIT_TOKEN',
      releaseId: ref.releaseId,
    });
    assert.equal(requests(), requestsBefore, 'the build source came from the working copy, not the remote');
    assert.equal(git(build, 'rev-parse', 'HEAD'), version.headSha);
    assert.match(readFileSync(join(build, 'setup.py'), 'utf8'), /version='3\.4'/);
    git(bare, 'update-ref', '-d', 'refs/heads/3.4-build');
    git(bare, 'tag', '-d', '3.4');
  });

  it('a wrong token is refused once, not retried, and the error names git.tokenEnv without the token', async function () {
    const { activities, ref } = setup({ RELFLOW_TEST_GIT_TOKEN: 'not-the-token' });
    await refusedFast(activities.checkoutRepository(ref), 'GitUnauthorized', /check git\.tokenEnv/);
  });

  it('a token variable missing on the worker is refused before git runs', async function () {
    const { activities, ref } = setup({ RELFLOW_TEST_GIT_TOKEN: '' });
    await refusedFast(
      activities.checkoutRepository(ref),
      'MissingSecret',
      /git\.tokenEnv: environment variable RELFLOW_TEST_GIT_TOKEN is not set/,
    );
  });

  it('the token goes only to the remote host: a redirect to another host is refused, naming it', async function () {
    const { activities, ref } = setup({ RELFLOW_TEST_GIT_TOKEN: TOKEN }, `${server.url}/old/moved-plugin.git`);
    await refusedFast(
      activities.checkoutRepository(ref),
      'GitRedirected',
      /the remote redirects \(HTTP 301\); with git\.tokenEnv no redirect is followed.*put the repository's new URL in the manifest/,
    );
    assert.deepEqual(elsewhere.seen, [], 'nothing, and so no token, reached the other host');
    const environment = gitEnvironment(
      { RELFLOW_TEST_GIT_TOKEN: TOKEN, RELFLOW_SECRETS: TEST_SECRETS_FILE },
      'RELFLOW_TEST_GIT_TOKEN',
      `${server.url}/x.git`,
    );
    assert.equal(environment.GIT_CONFIG_KEY_0, `http.${server.url}/.extraHeader`);
    const local = gitEnvironment(
      { RELFLOW_TEST_GIT_TOKEN: TOKEN, RELFLOW_SECRETS: TEST_SECRETS_FILE },
      'RELFLOW_TEST_GIT_TOKEN',
      '/srv/git/x.git',
    );
    assert.deepEqual(
      Object.values(local).filter((value) => value?.startsWith('Authorization')),
      [],
      'no token for a local path',
    );
    assert.equal(local.GIT_CONFIG_KEY_0, 'http.lowSpeedLimit', 'a stalled connection fails instead of hanging');
  });

  it('relflow plan and the checks of relflow start read the remote with the token', async function () {
    const dir = tempDir('token-cli');
    const config = writeManifest(dir, {
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      git: { tokenEnv: 'RELFLOW_TEST_GIT_TOKEN' },
      repositories: [{ name: 'cloudify-rest-client', url: `${server.url}/cloudify-rest-client.git` }],
      versionRules: [{ preset: 'setup.py', required: true }],
    });
    process.env.RELFLOW_TEST_GIT_TOKEN = TOKEN;
    try {
      const report = await planRelease({ kind: 'ga', version: '3.4', configFile: config });
      assert.deepEqual(
        report.repositories[0].changes.map((change) => change.path),
        ['setup.py'],
      );
      const prepared = await prepareRelease({ kind: 'ga', version: '3.4', configFile: config });
      assert.equal(prepared.plan.releaseId, 'cloudify-3.4');
      assert.doesNotMatch(JSON.stringify(prepared.request), new RegExp(TOKEN), 'the token is not in the workflow input');
      process.env.RELFLOW_TEST_GIT_TOKEN = 'wrong';
      await assert.rejects(planRelease({ kind: 'ga', version: '3.4', configFile: config }), (error: Error) => {
        assert.match(error.message, /repositories\[0\] \(cloudify-rest-client\): cannot read branch 'master'/);
        assert.doesNotMatch(error.message, /wrong/);
        return true;
      });
    } finally {
      delete process.env.RELFLOW_TEST_GIT_TOKEN;
    }
  });

  it('relflow plan where the token lives on the workers only reads the remote anonymously, not "not set on the worker"', async function () {
    const dir = tempDir('token-cli-anonymous');
    const config = writeManifest(dir, {
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      git: { tokenEnv: 'RELFLOW_TEST_GIT_TOKEN' },
      repositories: [{ name: 'cloudify-rest-client', url: `${elsewhere.url}/cloudify-rest-client.git` }],
      versionRules: [{ preset: 'setup.py', required: true }],
    });
    delete process.env.RELFLOW_TEST_GIT_TOKEN;
    // The secrets file here (RELFLOW_SECRETS) allows the token for this host; its value is not here.
    const report = await planRelease({ kind: 'ga', version: '3.4', configFile: config });
    assert.deepEqual(
      report.repositories[0].changes.map((change) => change.path),
      ['setup.py'],
    );
    const prepared = await prepareRelease({ kind: 'ga', version: '3.4', configFile: config });
    assert.equal(prepared.plan.releaseId, 'cloudify-3.4');
  });
});
