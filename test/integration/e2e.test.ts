import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createPypiActivities } from '../../src/activities/pypi';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { s3Client } from '../../src/activities/storage';
import { decideGate, prepareRelease, startPreparedRelease } from '../../src/client/releases';
import { markdownReport, releaseReport } from '../../src/release/report';
import { ensureTools, pythonTool } from '../../src/worker/tools';
import { releaseStateQuery } from '../../src/workflows/api';
import { ReleaseState } from '../../src/release/model';
import { git, pullRequestHistory } from '../support/gitRepos';
import { Inbox, LocalApi } from '../support/fakeSaas';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { createGaFixture, DEMO_REPOSITORIES, FIXTURE_SECRETS, GaFixture } from '../support/gaFixture';
import { createTestWorker, tempDir, testClient, uniqueTaskQueue } from '../support/temporal';

describe('a GA release end to end through the real activities', function () {
  this.timeout(300_000);
  let root: string;
  let fixture: GaFixture;
  let readthedocs: LocalApi;
  let hooks: LocalApi;
  let inbox: Inbox;
  let pypiUrl: string;
  let env: NodeJS.ProcessEnv;
  let config: string;

  before(async function () {
    root = tempDir('e2e');
    // Its own product name: the demo test releases the demo product on the same server.
    fixture = await createGaFixture(root, { product: 'e2e', adjust: (manifest) => ({ ...manifest, github: { releases: true } }) });
    ({ readthedocs, hooks, inbox, pypiUrl, config } = fixture);
    env = { ...process.env, ...fixture.env };
  });

  after(async function () {
    await fixture?.close();
  });

  it('builds, stores, tests, publishes after the gates and announces; no secret in the history', async function () {
    const taskQueue = uniqueTaskQueue('e2e');
    const workspaceDir = tempDir('e2e-workspace');
    const pythonBin = pythonTool(ensureTools(), 'python');
    const release = await createTestWorker({ taskQueue, workspaceDir, env, pythonBin });
    const builds = await createTestWorker({ taskQueue: `${taskQueue}-builds`, workspaceDir, env });
    const client = testClient();
    // Two repositories with a project's history since 3.3: merged pull requests, a squash merge with co-authors, a direct commit.
    const remote = (name: string) => join(root, 'product', 'remotes', `${name}.git`);
    const readmeCommit = pullRequestHistory(remote('cloudify-rest-client'), root);
    pullRequestHistory(remote('cloudify-dsl-parser'), root);
    const { state, history } = await builds.runUntil(
      release.runUntil(async () => {
        const prepared = await prepareRelease({
          kind: 'ga',
          configFile: config,
          version: '3.4',
          taskQueue,
          buildTaskQueue: `${taskQueue}-builds`,
        });
        const { plan } = await startPreparedRelease(client, prepared);
        const handle = client.workflow.getHandle(plan.releaseId);
        const waitFor = async (predicate: (s: ReleaseState) => boolean) => {
          for (let index = 0; index < 600; index += 1) {
            const current = await handle.query(releaseStateQuery);
            if (predicate(current)) return current;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          const last = await handle.query(releaseStateQuery);
          throw new Error(
            `timed out; ${JSON.stringify(last.stages.filter((stage) => stage.status !== 'pending').map((stage) => [stage.name, stage.status, stage.error ?? stage.detail]))}`,
          );
        };
        // CI reports success once the tags exist.
        await waitFor((s) => s.stage === 'ci');
        for (const name of DEMO_REPOSITORIES) fixture.ciStates[name] = 'success';
        await waitFor((s) => s.gates.some((gate) => gate.name === 'pypi' && gate.status === 'open'));
        await decideGate(client, plan.releaseId, { gate: 'pypi', by: 'alice' }, true);
        await waitFor((s) => s.gates.some((gate) => gate.name === 'docs' && gate.status === 'open'));
        await decideGate(client, plan.releaseId, { gate: 'docs', by: 'bob' }, true);
        const settled = await waitFor((s) => ['succeeded', 'failed', 'blocked', 'aborted'].includes(s.status));
        assert.equal(
          settled.status,
          'succeeded',
          JSON.stringify(settled.blocked ?? settled.stages.find((stage) => stage.status === 'failed')),
        );
        const result: ReleaseState = await handle.result();
        return { state: result, history: JSON.stringify(await handle.fetchHistory()) };
      }),
    );
    const stages = Object.fromEntries(state.stages.map((stage) => [stage.name, stage.status]));
    assert.deepEqual(stages, {
      plan: 'succeeded',
      preflight: 'succeeded',
      checkout: 'succeeded',
      version: 'succeeded',
      tag: 'succeeded',
      ci: 'succeeded',
      specs: 'succeeded',
      artifacts: 'succeeded',
      'system-tests': 'succeeded',
      pypi: 'succeeded',
      docs: 'succeeded',
      announce: 'succeeded',
    });
    // The UI tarball was built from the tagged commit, stored on moto and the mirror, and listed in artifacts.json.
    const ui = state.artifacts[0].files?.[0];
    assert.ok(ui);
    assert.equal(ui.file, 'cloudify-ui.tgz');
    const key = 'org/e2e/3.4.0/ga-RELEASE/cloudify-ui.tgz';
    assert.ok(existsSync(join(root, 'tarzan', key)));
    assert.equal(execFileSync('tar', ['xzf', join(root, 'tarzan', key), '-O', 'dist/VERSION'], { encoding: 'utf8' }).trim(), '3.4.0');
    const endpoint = await motoEndpoint();
    const s3 = s3Client(
      { bucket: 'e2e-releases', region: 'us-east-1', endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' },
      { ...process.env, ...MOTO_ENV },
    );
    const listing = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: 'e2e-releases', Key: 'org/e2e/3.4.0/ga-RELEASE/artifacts.json' }))
      ).Body?.transformToString()) ?? '{}',
    );
    assert.deepEqual(listing.files.map((file: { file: string }) => file.file).sort(), [
      'RELEASE-NOTES.md',
      'cloudify-ui.tgz',
      'cloudify-ui.tgz.intoto.jsonl',
      'plugin.yaml',
      'types.yaml',
    ]);
    // The release notes, stored beside the files and in SHA256SUMS: what changed in each repository since 3.3.
    const notes =
      (await (
        await s3.send(new GetObjectCommand({ Bucket: 'e2e-releases', Key: 'org/e2e/3.4.0/ga-RELEASE/RELEASE-NOTES.md' }))
      ).Body?.transformToString()) ?? '';
    const section = (name: string) =>
      notes
        .slice(notes.indexOf(`## ${name} `))
        .split('\n## ')[0]
        .trim()
        .split('\n');
    assert.deepEqual(section('cloudify-rest-client'), [
      '## cloudify-rest-client (since 3.3)',
      '',
      `- Update the README (${readmeCommit.slice(0, 12)})`,
      '- Add retries to the client (#13)',
      '- Fix the parser (#12)',
      '',
      'Authors: Carol, Bob, Alice',
      'Milestones and candidates: 3.4m1',
    ]);
    assert.equal(section('cloudify-dsl-parser')[3], '- Add retries to the client (#13)');
    assert.match(notes, /^## cloudify-ui \(first release\)$/m, 'a repository never tagged before');
    const sums = (
      await (
        await s3.send(new GetObjectCommand({ Bucket: 'e2e-releases', Key: 'org/e2e/3.4.0/ga-RELEASE/SHA256SUMS' }))
      ).Body?.transformToString()
    )?.split('\n');
    assert.ok(
      sums?.some((line) => / {2}RELEASE-NOTES\.md$/.test(line)),
      'RELEASE-NOTES.md is in SHA256SUMS',
    );
    // The first release of the product took build number 1 from the counter in the bucket.
    assert.equal(state.build, 1);
    assert.equal(listing.build, 1);
    const types = await (
      await s3.send(new GetObjectCommand({ Bucket: 'e2e-releases', Key: 'spec/e2e/3.4/types.yaml' }))
    ).Body?.transformToString();
    assert.match(types ?? '', /cloudify\.nodes\.Root/);
    // System tests got the artifacts manifest and their JUnit counts show.
    assert.deepEqual(state.systemTests && [state.systemTests.passed, state.systemTests.tests, state.systemTests.skipped], [true, 4, 1]);
    // PyPI: the package is on pypiserver and pip installs it from there.
    const venv = join(root, 'pip-venv');
    execFileSync('python3', ['-m', 'venv', venv]);
    execFileSync(
      join(venv, 'bin', 'pip'),
      ['install', '--quiet', '--no-deps', '--index-url', `${pypiUrl}/simple/`, 'cloudify-rest-client==3.4'],
      { encoding: 'utf8' },
    );
    assert.match(execFileSync(join(venv, 'bin', 'pip'), ['show', 'cloudify-rest-client'], { encoding: 'utf8' }), /Version: 3\.4/);
    // A second publication of the same release uploads nothing.
    const again = await createPypiActivities(new GitWorkspace(join(workspaceDir, 'git'), env), pythonBin, env).publishPythonPackage({
      pypi: { repositoryUrl: pypiUrl, usernameEnv: 'TEST_PYPI_USER', passwordEnv: 'TEST_PYPI_PASSWORD' },
      target: {
        repository: { name: 'cloudify-rest-client', url: join(root, 'product', 'remotes', 'cloudify-rest-client.git') },
        sha: git(join(root, 'product', 'remotes', 'cloudify-rest-client.git'), 'rev-parse', '3.4^{commit}'),
        packageDir: '.',
      },
    });
    assert.deepEqual(again.uploaded, []);
    assert.equal(again.skipped.length, 2);
    // ReadTheDocs was asked to build the release version with the token.
    assert.ok(
      readthedocs.requests.some(
        (request) =>
          request.method === 'POST' &&
          request.path === '/api/v3/projects/cloudify-rest-client/versions/3.4/builds/' &&
          request.headers.authorization === 'Token rtd-secret-token',
      ),
    );
    // The email lists every package; the webhook got the summary.
    const announcement = inbox.mails.find((mail) => /ga release 3\.4: 1 package$/.test(mail.subject ?? ''));
    assert.ok(announcement, `mails: ${inbox.mails.map((mail) => mail.subject).join(', ')}`);
    for (const file of listing.files as { file: string; sha256: string }[]) {
      assert.ok(announcement.text?.includes(file.file) && announcement.text.includes(file.sha256), `${file.file} in the email`);
    }
    assert.ok(String(announcement.html).includes('<table>'));
    assert.match(announcement.text ?? '', /^Build number: 1$/m);
    // The notes, in the text part and as HTML (no Markdown).
    const text = announcement.text ?? '';
    const notesAt = text.indexOf('  cloudify-rest-client (since 3.3):');
    assert.ok(notesAt > text.indexOf('Release notes:'), text);
    assert.deepEqual(text.slice(notesAt).split('\n').slice(0, 6), [
      '  cloudify-rest-client (since 3.3):',
      `    - Update the README (${readmeCommit.slice(0, 12)})`,
      '    - Add retries to the client (#13)',
      '    - Fix the parser (#12)',
      '    Authors: Carol, Bob, Alice',
      '    Milestones and candidates: 3.4m1',
    ]);
    assert.ok(String(announcement.html).includes('<li>Fix the parser (#12)</li>'), String(announcement.html));
    assert.doesNotMatch(String(announcement.html), /^## |\]\(/m, 'no raw Markdown in the HTML');
    // What was published outside the storage: the PyPI files with their index page, the ReadTheDocs build.
    assert.match(
      announcement.text ?? '',
      new RegExp(`PyPI: cloudify-rest-client: cloudify_rest_client-3\\.4.*\\(${pypiUrl}/simple/cloudify-rest-client/\\)`),
    );
    assert.match(announcement.text ?? '', /ReadTheDocs: cloudify-rest-client 3\.4: built \(build \d+\)/);
    assert.match(String(announcement.html), /Published:<br>PyPI: cloudify-rest-client/);
    // A GitHub release per repository for its tag: drafted after the artifacts, published by the announce stage.
    const releases = fixture.github.releases;
    assert.deepEqual(releases.map((release) => release.repository).sort(), [...DEMO_REPOSITORIES].sort());
    assert.ok(releases.every((release) => !release.draft && release.html_url.endsWith(`/releases/tag/${release.tag_name}`)));
    const created = fixture.github.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/releases'));
    assert.equal(created.length, DEMO_REPOSITORIES.length, 'one create per repository');
    assert.ok(
      created.every((request) => JSON.parse(request.body).draft === true),
      'created as drafts',
    );
    const restClient = releases.find((release) => release.repository === 'cloudify-rest-client');
    assert.equal(restClient?.tag_name, '3.4');
    assert.ok(restClient?.body.includes('- Fix the parser (#12)'), restClient?.body);
    assert.match(restClient?.body ?? '', /^\| \[cloudify-ui\.tgz\]\(http:\/\/\S+\/cloudify-ui\.tgz\) \| `[0-9a-f]{64}` \|$/m);
    const report = markdownReport(releaseReport(state));
    assert.match(
      report,
      /^- GitHub release: cloudify-rest-client 3\.4: https:\/\/github\.local\/cloudify-cosmo\/cloudify-rest-client\/releases\/tag\/3\.4$/m,
    );
    assert.match(
      report,
      /## Release notes\n- cloudify-rest-client since 3\.3: Update the README \([0-9a-f]{12}\); Add retries to the client \(#13\); Fix the parser \(#12\) \(by Carol, Bob, Alice\)/,
    );
    assert.match(report, /## Published\n- PyPI: cloudify-rest-client: .*\n- ReadTheDocs: cloudify-rest-client 3\.4: built \(build \d+\)/);
    assert.ok(
      hooks.requests.some(
        (request) => request.path === '/hooks/T000/B000/secret-path' && /1 package; Outcome: succeeded/.test(request.body),
      ),
    );
    // Secrets never enter the workflow history.
    for (const secret of [
      FIXTURE_SECRETS.TEST_GITHUB_TOKEN,
      FIXTURE_SECRETS.TEST_PYPI_PASSWORD,
      FIXTURE_SECRETS.TEST_RTD_TOKEN,
      FIXTURE_SECRETS.TEST_SMTP_PASSWORD,
      'secret-path',
      MOTO_ENV.TEST_AWS_SECRET,
    ]) {
      assert.equal(history.includes(secret), false, `'${secret}' found in the history`);
    }
  });
});
