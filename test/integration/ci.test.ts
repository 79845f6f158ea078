import { strict as assert } from 'node:assert';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { createCiActivities } from '../../src/activities/ci';
import { createDocsActivities } from '../../src/activities/readthedocs';
import { createSystemTestActivities, junitCounts } from '../../src/activities/systemTests';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/tempDirs';
import { startGithubApi, startLocalApi, startReadTheDocsApi } from '../support/fakeSaas';
import { ApplicationFailure } from '@temporalio/common';

const targets = [
  { repository: 'cloudify-manager', tag: '3.4', sha: 'a'.repeat(40) },
  { repository: 'cloudify-ui', tag: '3.4', sha: 'b'.repeat(40) },
];

describe('CI on tags (GitHub REST API served locally) and ReadTheDocs builds', function () {
  this.timeout(60_000);

  it('passes when every tag is green, with the token sent as a bearer token', async function () {
    const api = await startGithubApi({ 'cloudify-manager': 'success', 'cloudify-ui': 'success' });
    try {
      const result = await createCiActivities({ GH: 'token-123', RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
        ci: { provider: 'github', apiUrl: api.url, owner: 'cloudify-cosmo', tokenEnv: 'GH', timeout: '10s', pollEvery: '1s' },
        targets,
      });
      assert.equal(result.passed, true);
      assert.ok(api.requests.every((request) => request.headers.authorization === 'Bearer token-123'));
      assert.ok(api.requests.some((request) => request.path === '/repos/cloudify-cosmo/cloudify-ui/commits/3.4/check-runs?per_page=100'));
    } finally {
      await api.close();
    }
  });

  it('reports a red tag as a failed result (not an error), naming the repository and the check', async function () {
    const api = await startGithubApi({ 'cloudify-manager': 'success', 'cloudify-ui': 'failure' });
    try {
      const result = await createCiActivities({ RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
        ci: { provider: 'github', apiUrl: api.url, owner: 'org', timeout: '10s', pollEvery: '1s' },
        targets,
      });
      assert.equal(result.passed, false);
      assert.equal(result.detail, 'CI failed on cloudify-ui (failed: travis-ci, unit)');
      assert.deepEqual(
        result.repositories.map((entry) => entry.result),
        ['passed', 'failed'],
      );
    } finally {
      await api.close();
    }
  });

  it('reads every page: a failure on page 2 of 150 statuses and check runs is a failure', async function () {
    const api = await startGithubApi({ 'cloudify-manager': 'success', 'cloudify-ui': 'failure' }, { padding: 149 });
    try {
      const result = await createCiActivities({ RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
        ci: { provider: 'github', apiUrl: api.url, owner: 'org', timeout: '10s', pollEvery: '1s' },
        targets,
      });
      assert.equal(result.detail, 'CI failed on cloudify-ui (failed: travis-ci, unit)');
      assert.ok(
        api.requests.some((request) => request.path.endsWith('/status?per_page=100&page=2')),
        'followed the Link header',
      );
      assert.ok(api.requests.every((request) => /per_page=100/.test(request.path)));
    } finally {
      await api.close();
    }
  });

  for (const style of ['403', '429'] as const) {
    it(`waits out a ${style} rate limit (${style === '403' ? 'X-RateLimit-Reset' : 'Retry-After'}) instead of calling it unauthorized`, async function () {
      const api = await startGithubApi(
        { 'cloudify-manager': 'success', 'cloudify-ui': 'success' },
        { rateLimited: { requests: 2, style } },
      );
      try {
        const result = await createCiActivities({ RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
          ci: { provider: 'github', apiUrl: api.url, owner: 'org', timeout: '30s', pollEvery: '1s' },
          targets,
        });
        assert.equal(result.passed, true, result.detail);
      } finally {
        await api.close();
      }
    });
  }

  it('a 403 that is not a rate limit is unauthorized, and not retried', async function () {
    const api = await startLocalApi(() => ({ status: 403, json: { message: 'Resource not accessible by integration' } }));
    try {
      await assert.rejects(
        createCiActivities({ RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
          ci: { provider: 'github', apiUrl: api.url, owner: 'org', timeout: '10s', pollEvery: '1s' },
          targets,
        }),
        (error: ApplicationFailure) => error.type === 'CiUnauthorized' && error.nonRetryable,
      );
    } finally {
      await api.close();
    }
  });

  it('gives up after the manifest timeout, naming what is still pending', async function () {
    const api = await startGithubApi({ 'cloudify-manager': 'success', 'cloudify-ui': 'pending' });
    try {
      const started = Date.now();
      const result = await createCiActivities({ RELFLOW_SECRETS: TEST_SECRETS_FILE }).waitForCi({
        ci: { provider: 'github', apiUrl: api.url, owner: 'org', timeout: '3s', pollEvery: '1s' },
        targets,
      });
      assert.equal(result.passed, false);
      assert.equal(result.detail, 'CI timed out after 3s waiting for cloudify-ui');
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await api.close();
    }
  });

  it('runs a command provider with the tags in its environment', async function () {
    const ci = createCiActivities({ PATH: process.env.PATH });
    const green = await ci.waitForCi({
      ci: { provider: 'command', command: 'echo "$RELFLOW_CI_TARGETS" | grep -q cloudify-ui', timeout: '10s' },
      targets,
    });
    assert.equal(green.passed, true);
    const red = await ci.waitForCi({ ci: { provider: 'command', command: 'echo boom; exit 3', timeout: '10s' }, targets });
    assert.deepEqual([red.passed, red.detail], [false, 'CI command failed (exit 3): boom']);
  });

  it('system tests run in a temporary directory that is removed afterwards, passed or failed', async function () {
    const activities = createSystemTestActivities({ PATH: process.env.PATH });
    const passed = await activities.runSystemTests({
      systemTests: { command: 'printf \'<testsuite tests="2" failures="0"/>\' > junit.xml', junit: 'junit.xml', timeout: '1m' },
      releaseId: 'r',
      files: [],
    });
    assert.deepEqual([passed.passed, passed.tests], [true, 2]);
    const failed = await activities.runSystemTests({ systemTests: { command: 'pwd; exit 1', timeout: '1m' }, releaseId: 'r', files: [] });
    const dir = /(\/\S*relflow-system-tests-\w+)/.exec(failed.detail)?.[1];
    assert.ok(dir, failed.detail);
    assert.equal(existsSync(dir), false, `${dir} was removed`);
  });

  it("a CI command and system tests get a HOME of their own: the worker's dotfiles are neither read nor written", async function () {
    const workerHome = tempDir('worker-home');
    writeFileSync(join(workerHome, '.gitconfig'), '[credential]\n\thelper = store\n');
    const env = { PATH: process.env.PATH, HOME: workerHome };
    const probe =
      'test -e "$HOME/.gitconfig" && exit 7; git config --global core.hooksPath /tmp/planted-hooks; ' +
      'printf \'<testsuite tests="1" failures="0"/>\' > junit.xml';
    const ci = await createCiActivities(env).waitForCi({ ci: { provider: 'command', command: probe, timeout: '10s' }, targets });
    assert.equal(ci.passed, true, ci.detail);
    const tests = await createSystemTestActivities(env).runSystemTests({
      systemTests: { command: probe, junit: 'junit.xml', timeout: '1m' },
      releaseId: 'r',
      files: [],
    });
    assert.equal(tests.passed, true, tests.detail);
    assert.equal(readFileSync(join(workerHome, '.gitconfig'), 'utf8'), '[credential]\n\thelper = store\n', 'the worker HOME is untouched');
  });

  it('a CI command and system tests run in the sandbox: no worker process is visible, nothing outside their directory is written', async function () {
    const outside = tempDir('ci-outside');
    const env = { PATH: process.env.PATH, HOME: tempDir('worker-home') };
    const probe = (name: string) =>
      `test -e /proc/${process.pid} && exit 5; echo planted > ${outside}/${name} 2>/dev/null; ` +
      'printf \'<testsuite tests="1" failures="0"/>\' > junit.xml';
    const ci = await createCiActivities(env).waitForCi({ ci: { provider: 'command', command: probe('ci'), timeout: '10s' }, targets });
    assert.equal(ci.passed, true, ci.detail);
    const tests = await createSystemTestActivities(env).runSystemTests({
      systemTests: { command: probe('system-tests'), junit: 'junit.xml', timeout: '1m' },
      releaseId: 'r',
      files: [],
    });
    assert.equal(tests.passed, true, tests.detail);
    assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
  });

  it('counts a JUnit report over all its suites', function () {
    const xml =
      '<testsuites><testsuite name="a" tests="3" failures="1" errors="1" skipped="0"/><testsuite name="b" tests="2" failures="0" skipped="1"></testsuite></testsuites>';
    assert.deepEqual(junitCounts(xml), { tests: 5, failures: 2, skipped: 1 });
  });

  it('ReadTheDocs: a version not synced yet after the tag push is synced and built; a cancelled build is final', async function () {
    const api = await startReadTheDocsApi({ fresh: true, stopped: 'cancelled' }, { unsynced: true });
    try {
      const docs = createDocsActivities({ RTD: 'rtd-token', RELFLOW_SECRETS: TEST_SECRETS_FILE });
      const readthedocs = { apiUrl: `${api.url}/api/v3`, tokenEnv: 'RTD', timeout: '10s' };
      const fresh = await docs.buildDocs({ readthedocs, project: 'fresh', version: '3.4', pollMs: 50 });
      assert.deepEqual([fresh.success, fresh.detail], [true, 'built']);
      assert.ok(
        api.requests.some((request) => request.method === 'POST' && request.path === '/api/v3/projects/fresh/sync-versions/'),
        'the versions were synced',
      );
      const started = Date.now();
      const stopped = await docs.buildDocs({ readthedocs, project: 'stopped', version: '3.4', pollMs: 50 });
      assert.equal(stopped.success, false);
      assert.match(stopped.detail, /was cancelled on ReadTheDocs/);
      assert.ok(Date.now() - started < 5_000, 'a cancelled build ends the wait, not the timeout');
    } finally {
      await api.close();
    }
  });

  it('ReadTheDocs: a version that never appears fails after the timeout with what to check', async function () {
    const api = await startReadTheDocsApi({ ghost: true }, { unsynced: true, versions: ['3.4'] });
    try {
      const docs = createDocsActivities({ RTD: 'rtd-token', RELFLOW_SECRETS: TEST_SECRETS_FILE });
      const readthedocs = { apiUrl: `${api.url}/api/v3`, tokenEnv: 'RTD', timeout: '1s' };
      await assert.rejects(docs.buildDocs({ readthedocs, project: 'ghost', version: '9.9', pollMs: 400 }), (error: ApplicationFailure) => {
        assert.equal(error.type, 'DocsVersionNotFound');
        assert.match(error.message, /has no version '9\.9' after syncing its versions for 1s; is the tag pushed and the version active\?/);
        return true;
      });
    } finally {
      await api.close();
    }
  });

  it('ReadTheDocs: a successful and a failed build are reported per project', async function () {
    const api = await startReadTheDocsApi({ good: true, bad: false });
    try {
      const docs = createDocsActivities({ RTD: 'rtd-token', RELFLOW_SECRETS: TEST_SECRETS_FILE });
      const readthedocs = { apiUrl: `${api.url}/api/v3`, tokenEnv: 'RTD', timeout: '10s' };
      const good = await docs.buildDocs({ readthedocs, project: 'good', version: '3.4', pollMs: 50 });
      const bad = await docs.buildDocs({ readthedocs, project: 'bad', version: '3.4', pollMs: 50 });
      assert.deepEqual([good.success, good.detail], [true, 'built']);
      assert.deepEqual([bad.success, bad.detail], [false, 'failed: Sphinx error']);
      assert.ok(api.requests.every((request) => request.headers.authorization === 'Token rtd-token'));
      await assert.rejects(
        docs.buildDocs({ readthedocs, project: 'missing', version: '3.4', pollMs: 50 }),
        /ReadTheDocs has no project 'missing' \(HTTP 404\)/,
      );
    } finally {
      await api.close();
    }
  });
});
