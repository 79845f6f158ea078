import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
import { createPreflightActivities } from '../src/activities/preflight';
import { motoEndpoint, MOTO_ENV } from '../src/dev/localServices';
import { buildReleasePlan } from '../src/release/plan';
import { createRemote, git } from './support/gitRepos';
import { manifestOf } from './support/manifests';
import { tempDir } from './support/temporal';

describe('the preflight on the worker (real remotes, moto S3), before any side effect', function () {
  this.timeout(120_000);

  it('reports every problem at once: an unset secret, a Python that cannot publish, a released tag, a missing bucket; nothing changes', async function () {
    const root = tempDir('preflight');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const plugin = createRemote(root, { name: 'script-plugin', files: { 'setup.py': "setup(version='1.3')\n" } });
    git(plugin, 'tag', '1.3', 'master');
    const endpoint = await motoEndpoint();
    const manifest = manifestOf({
      product: 'preflight',
      versions: { core: '3.4', plugins: '1.3' },
      repositories: [
        { name: 'core', url: core, pypi: true },
        { name: 'script-plugin', url: plugin, stream: 'plugins' },
      ],
      ci: { provider: 'github', owner: 'org', tokenEnv: 'RELFLOW_TEST_UNSET_CI_TOKEN' },
      storage: { bucket: 'no-such-bucket-preflight', endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' },
      pypi: { repositoryUrl: 'http://127.0.0.1:9/' },
    });
    const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
    const before = [git(core, 'for-each-ref'), git(plugin, 'for-each-ref')];
    const preflight = createPreflightActivities({ ...process.env, ...MOTO_ENV, RELFLOW_TEST_UNSET_CI_TOKEN: '' }, '/bin/false');
    await assert.rejects(preflight.preflightRelease({ kind: 'ga', manifest, plan }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'PreflightFailed');
      assert.equal(error.nonRetryable, true);
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'preflight: 4 problems, nothing was changed:');
      assert.deepEqual(lines.slice(1), [
        '- ci.tokenEnv: environment variable RELFLOW_TEST_UNSET_CI_TOKEN is not set on the worker',
        '- /bin/false cannot publish to PyPI: it lacks build or twine (set RELFLOW_PYTHON, or run npm run bootstrap)',
        `- repositories[1] (script-plugin): tag '1.3' already exists on ${plugin}: the plugins version 1.3 was already released; pass --plugins-version 1.4 or bump versions.plugins in the manifest`,
        "- storage (storage): bucket 'no-such-bucket-preflight' does not exist",
      ]);
      return true;
    });
    assert.deepEqual([git(core, 'for-each-ref'), git(plugin, 'for-each-ref')], before, 'nothing changed on the remotes');
    // A nightly of the same product needs neither PyPI nor the released tag: only the secret and the bucket remain.
    const nightly = buildReleasePlan(manifest, { kind: 'nightly', date: '20261124' });
    await assert.rejects(preflight.preflightRelease({ kind: 'nightly', manifest, plan: nightly }), /preflight: 2 problems/);
  });
});
