import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
import { createPreflightActivities } from '../../src/activities/preflight';
import { motoEndpoint, MOTO_ENV } from '../../src/dev/localServices';
import { buildReleasePlan } from '../../src/release/plan';
import { createRemote, git } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { tempDir } from '../support/temporal';
import { startGithubApi, startReadTheDocsApi } from '../support/fakeSaas';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/activities/storage';

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
      ci: { provider: 'github', owner: 'org', tokenEnv: 'RELFLOW_TEST_UNSET_CI_TOKEN', apiUrl: 'http://127.0.0.1:9' },
      storage: { bucket: 'no-such-bucket-preflight', endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' },
      pypi: { repositoryUrl: 'http://127.0.0.1:9/' },
      versionRules: [
        { preset: 'setup.py' },
        // Fine on 3.3 -> 3.4, but a nightly's 3.4.dev20261124 would grow a .dev suffix every night.
        { description: 'greedy', type: '^setup\\.py$', match: "version='[^']*'", replace: '\\d+\\.\\d+', with: '{{ python_version }}' },
      ],
    });
    const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
    const before = [git(core, 'for-each-ref'), git(plugin, 'for-each-ref')];
    const preflight = createPreflightActivities({ ...process.env, ...MOTO_ENV, RELFLOW_TEST_UNSET_CI_TOKEN: '' }, '/bin/false');
    await assert.rejects(preflight.preflightRelease({ kind: 'ga', manifest, plan }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'PreflightFailed');
      assert.equal(error.nonRetryable, true);
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'preflight: 5 problems, nothing was changed:');
      assert.deepEqual(lines.slice(1), [
        '- ci.tokenEnv: environment variable RELFLOW_TEST_UNSET_CI_TOKEN is not set on the worker',
        "- versionRules[1] (greedy): not idempotent for a nightly (3.4dev20261124, in core): 'version='3.3',' becomes 'version='3.4.dev20261124',' " +
          "in the first pass and 'version='3.4.dev20261124.dev20261124',' in a second; anchor the rule's match so it does not match its own output",
        '- /bin/false cannot publish to PyPI: it lacks build or twine (set RELFLOW_PYTHON, or run npm run bootstrap)',
        `- repositories[1] (script-plugin): tag '1.3' already exists on ${plugin}: the plugins version 1.3 was already released; pass --plugins-version 1.4 or bump versions.plugins in the manifest`,
        "- storage (storage): bucket 'no-such-bucket-preflight' does not exist",
      ]);
      return true;
    });
    assert.deepEqual([git(core, 'for-each-ref'), git(plugin, 'for-each-ref')], before, 'nothing changed on the remotes');
    // A nightly of the same product needs neither PyPI nor the released tag: the secret, the rule and the bucket remain.
    const nightly = buildReleasePlan(manifest, { kind: 'nightly', date: '20261124' });
    await assert.rejects(preflight.preflightRelease({ kind: 'nightly', manifest, plan: nightly }), /preflight: 3 problems/);
  });

  it('a worker without bubblewrap is refused for a CI command and system tests, naming both and the fix', async function () {
    const root = tempDir('preflight-sandbox');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const manifest = manifestOf({
      product: 'sandboxless',
      versions: { core: '3.4', plugins: '1.3' },
      repositories: [{ name: 'core', url: core }],
      ci: { provider: 'command', command: 'true' },
      systemTests: { command: 'true' },
    });
    const plan = buildReleasePlan(manifest, { kind: 'nightly', date: '20261203' });
    const preflight = createPreflightActivities({ ...process.env, RELFLOW_BWRAP: '/nonexistent/bwrap' }, 'python3');
    await assert.rejects(preflight.preflightRelease({ kind: 'nightly', manifest, plan }), (error: unknown) => {
      assert.match(
        String((error as Error).message),
        /- ci\.command, systemTests: a product's code \(local builds, a CI command, system tests, python -m build\) runs in a bubblewrap sandbox, and this worker has none: .*RELFLOW_SANDBOX=none/,
      );
      return true;
    });
    const unsandboxed = await createPreflightActivities({ ...process.env, RELFLOW_SANDBOX: 'none' }, 'python3').preflightRelease({
      kind: 'nightly',
      manifest,
      plan,
    });
    assert.ok(unsandboxed.checked.includes('sandbox: none (RELFLOW_SANDBOX=none)'), 'the opt-out is reported');
  });

  it('asks every outside system the release will use: storage takes a write, GitHub and ReadTheDocs answer, vagrant is there', async function () {
    const root = tempDir('preflight-apis');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const endpoint = await motoEndpoint();
    const bucket = `preflight-writable-${process.pid}`;
    const storage = { bucket, endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' };
    const env = { ...process.env, ...MOTO_ENV, TEST_AWS_KEY: 'testing', TEST_AWS_SECRET: 'testing', CI_TOKEN: 'right', RTD_TOKEN: 'rtd' };
    const notADirectory = join(root, 'mirror-file');
    writeFileSync(notADirectory, 'a file, not a directory');
    const github = await startGithubApi({}, { token: 'right', missing: ['core'] });
    const readthedocs = await startReadTheDocsApi({ 'core-docs': true });
    try {
      const manifest = manifestOf({
        product: 'preflight-apis',
        versions: { core: '3.4', plugins: '1.3' },
        repositories: [{ name: 'core', url: core, readthedocs: 'no-such-docs' }],
        artifacts: [
          { name: 'box', repository: 'core', builder: 'vagrant', vagrant: { directory: 'box' }, command: 'make', outputs: ['x.box'] },
        ],
        ci: { provider: 'github', owner: 'org', tokenEnv: 'CI_TOKEN', apiUrl: github.url },
        readthedocs: { tokenEnv: 'RTD_TOKEN', apiUrl: `${readthedocs.url}/api/v3` },
        storage: { ...storage, mirrors: [{ type: 'directory', name: 'tarzan', path: join(notADirectory, 'mirror') }] },
      });
      const client = s3Client(manifest.storage as NonNullable<typeof manifest.storage>, env);
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
      const preflight = createPreflightActivities({ ...env, RELFLOW_VAGRANT: join(root, 'no-vagrant') }, '/bin/false');
      await assert.rejects(preflight.preflightRelease({ kind: 'ga', manifest, plan }), (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.deepEqual(error.message.split('\n').slice(1), [
          `- storage (tarzan): directory ${join(notADirectory, 'mirror')} cannot be written (ENOTDIR)`,
          `- artifacts: a vagrant build needs '${join(root, 'no-vagrant')}' on the worker (install Vagrant, or set RELFLOW_VAGRANT)`,
          '- ci: GitHub has no repository org/core (or ci.tokenEnv cannot see it); check ci.owner',
          "- readthedocs: ReadTheDocs has no project 'no-such-docs'; check repositories[].readthedocs",
        ]);
        return true;
      });
      // A wrong CI token is named as such, not as a missing repository; the S3 probe left nothing behind.
      await assert.rejects(
        createPreflightActivities({ ...env, CI_TOKEN: 'wrong' }, '/bin/false').preflightRelease({ kind: 'nightly', manifest, plan }),
        /- ci: GitHub API \/repos\/org\/core answered HTTP 401; check ci\.tokenEnv/,
      );
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.equal(listed.KeyCount ?? 0, 0, 'the write probe is deleted');
      assert.equal(existsSync(join(notADirectory, 'mirror')), false);
      assert.ok(github.requests.some((request) => request.path === '/repos/org/core' && request.headers.authorization === 'Bearer right'));
      assert.ok(readthedocs.requests.some((request) => request.path === '/api/v3/projects/no-such-docs/'));
    } finally {
      await github.close();
      await readthedocs.close();
    }
  });
});
