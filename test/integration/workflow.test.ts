import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import type { ManifestInput } from '../../src/config/manifest';
import { decideGate, operateRelease } from '../../src/client/releases';
import type { ReleaseKind } from '../../src/release/version';
import { artifactWorkflow, releaseWorkflow, repositoryBatchWorkflow } from '../../src/workflows';
import { errorMessage } from '../../src/workflows/tracker';
import { approveSignal, releaseStateQuery } from '../../src/workflows/api';
import { ReleaseState } from '../../src/release/model';
import { releaseReport, terminalReport } from '../../src/release/report';
import { fakeActivities, untilCancelled } from '../support/fakeActivities';
import { announcement } from '../../src/activities/notify';
import { MissingSecret } from '../../src/activities/secrets';
import { manifestOf } from '../support/manifests';
import { testClient, uniqueTaskQueue, withWorkers, workflowBundle } from '../support/temporal';
import { Worker } from '@temporalio/worker';
import { payloadConverterPath } from '../../src/worker/worker';

function fullManifest(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    product: 'wf',
    versions: { core: '3.5', plugins: '1.5' },
    repositories: [
      { name: 'core', url: '/srv/core.git', pypi: true, readthedocs: 'core-docs', typesYaml: 'types.yaml' },
      { name: 'plugin', url: '/srv/plugin.git', stream: 'plugins', pluginYaml: 'plugin.yaml' },
    ],
    artifacts: [
      { name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'] },
      { name: 'agent', repository: 'plugin', command: 'make', outputs: ['agent.tgz'] },
    ],
    storage: { bucket: 'releases' },
    ci: { provider: 'github', owner: 'org' },
    systemTests: { command: './run.sh' },
    gates: { pypi: { approvers: ['alice'], timeout: '1h', reminderEvery: '1h' }, docs: { timeout: '1h', reminderEvery: '1h' } },
    pypi: { repositoryUrl: 'http://pypi.invalid/' },
    readthedocs: { tokenEnv: 'RTD_TOKEN' },
    notifications: { webhooks: [{ name: 'chat', urlEnv: 'CHAT_URL' }] },
    ...overrides,
  };
}

let counter = 0;
async function startRelease(taskQueue: string, kind: ReleaseKind, version: string | undefined, manifest = fullManifest()) {
  counter += 1;
  return testClient().workflow.start(releaseWorkflow, {
    taskQueue,
    workflowId: `wf-test-${process.pid}-${Date.now()}-${counter}`,
    args: [{ manifest: manifestOf(manifest), kind, version, date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
  });
}

async function waitFor(
  handle: { query: (q: typeof releaseStateQuery) => Promise<ReleaseState> },
  predicate: (state: ReleaseState) => boolean,
  what: string,
): Promise<ReleaseState> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await handle.query(releaseStateQuery);
    if (predicate(state)) return state;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(state.stages.map((stage) => [stage.name, stage.status]))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stageTable = (state: ReleaseState) => Object.fromEntries(state.stages.map((stage) => [stage.name, stage.status]));
const openGate = (name: string) => (state: ReleaseState) => state.gates.some((gate) => gate.name === name && gate.status === 'open');

describe('release workflow (test activities, real dev server)', function () {
  it('nightly: every stage but the gates; pypi and docs skipped', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'nightly', undefined)).result());
    assert.deepEqual(stageTable(state), {
      plan: 'succeeded',
      preflight: 'succeeded',
      checkout: 'succeeded',
      version: 'succeeded',
      tag: 'succeeded',
      ci: 'succeeded',
      specs: 'succeeded',
      artifacts: 'succeeded',
      'system-tests': 'succeeded',
      pypi: 'skipped',
      docs: 'skipped',
      announce: 'succeeded',
    });
    assert.equal(state.stages.find((stage) => stage.name === 'pypi')?.detail, 'nightlies are not published');
    assert.deepEqual(
      state.artifacts.map((artifact) => [artifact.name, artifact.status, artifact.machineId]),
      [
        ['ui', 'succeeded', 'machine-ui'],
        ['agent', 'succeeded', 'machine-agent'],
      ],
    );
    assert.equal(calls.tearDownBuilder.length, 2);
    assert.deepEqual(
      calls.versionRepository.map(([input]) => (input as { tag: string }).tag),
      ['nightly-20261124', 'nightly-20261124'],
      'each version commit pushed with its tag',
    );
    assert.equal(calls.tagRepository, undefined, 'the tag stage had nothing left to push');
    assert.deepEqual(
      state.repositories.map((repository) => repository.tagSha),
      ['b'.repeat(40), 'b'.repeat(40)],
    );
    assert.equal(state.status, 'succeeded');
  });

  it('started again over finished work: one look finds every tag and stored file; version to artifacts are not run again', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const stored = (name: string, file: string) => ({ name, file, size: 1, sha256: 'ef'.repeat(32), urls: [`http://storage/${file}`] });
    const { activities, calls } = fakeActivities({
      findReleasedWork: async () => ({
        commits: { core: 'c'.repeat(40), plugin: 'd'.repeat(40) },
        files: [stored('ui', 'ui-b7.tgz'), stored('agent', 'agent-b7.tgz'), stored('artifacts.json', 'artifacts.json')],
        build: 7,
      }),
    });
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'nightly', undefined)).result());
    assert.equal(state.status, 'succeeded');
    const skipped = ['version', 'tag', 'ci', 'specs', 'artifacts'];
    for (const stage of state.stages.filter((candidate) => skipped.includes(candidate.name))) {
      assert.deepEqual([stage.name, stage.status, stage.detail], [stage.name, 'skipped', 'done by an earlier run of this release']);
    }
    assert.match(
      state.stages.find((stage) => stage.name === 'checkout')?.detail ?? '',
      /^every repository tagged and every file stored by an earlier run/,
    );
    assert.deepEqual(stageTable(state)['system-tests'], 'succeeded');
    assert.deepEqual(stageTable(state).announce, 'succeeded');
    for (const name of [
      'checkoutRepository',
      'versionRepository',
      'tagRepository',
      'waitForCi',
      'uploadSpecs',
      'buildArtifact',
      'allocateBuildNumber',
    ]) {
      assert.equal(calls[name], undefined, `${name} not called`);
    }
    const [input] = calls.findReleasedWork[0] as [{ repositories: { name: string; tag: string }[]; artifacts: string[] }];
    assert.deepEqual(
      input.repositories.map((repository) => [repository.name, repository.tag]),
      [
        ['core', 'nightly-20261124'],
        ['plugin', 'nightly-20261124'],
      ],
    );
    assert.deepEqual(input.artifacts, ['ui', 'agent']);
    // What the later stages and the report read: the earlier run's commits, files and build number.
    assert.equal(state.build, 7);
    assert.deepEqual(
      state.repositories.map((repository) => [repository.status, repository.tagSha]),
      [
        ['succeeded', 'c'.repeat(40)],
        ['succeeded', 'd'.repeat(40)],
      ],
    );
    assert.deepEqual(
      state.artifacts.map((artifact) => [artifact.name, artifact.status, artifact.files?.map((file) => file.file)]),
      [
        ['ui', 'succeeded', ['ui-b7.tgz']],
        ['agent', 'succeeded', ['agent-b7.tgz']],
      ],
    );
    assert.deepEqual(
      state.stored.map((file) => file.file),
      ['artifacts.json', 'RELEASE-NOTES.md.tgz'],
    );
    const [announced] = calls.announceRelease[0] as [{ state?: ReleaseState }];
    assert.ok(JSON.stringify(announced).includes('ui-b7.tgz'), 'the announcement lists the stored files');
  });

  it('patch: no tag, no CI; gates off by default', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'patch', '3.4.2')).result());
    const table = stageTable(state);
    assert.deepEqual(
      [table.tag, table.ci, table.pypi, table.docs, table.artifacts],
      ['skipped', 'skipped', 'skipped', 'skipped', 'succeeded'],
    );
    assert.equal(calls.tagRepository, undefined);
    assert.match(
      state.stages.find((stage) => stage.name === 'pypi')?.detail ?? '',
      /^not published to PyPI: patch releases publish only with gates\.pypi\.enabled: true \(then after the pypi gate\)$/,
    );
    assert.equal(
      calls.buildArtifact[0][0] && (calls.buildArtifact[0][0] as { sha: string }).sha,
      'b'.repeat(40),
      'patches build the branch head',
    );
  });

  it('patch with naming.tag.patch: built on its -build branch, tagged and tested, sibling references on the tags', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const manifest = fullManifest({
      naming: { branch: { patch: '{{ version }}-build' }, tag: { patch: '{{ version }}' } },
      versionRules: [{ preset: 'cloudify' }],
    });
    const state = await withWorkers({ taskQueue, activities }, async () =>
      (await startRelease(taskQueue, 'patch', '3.4.2', manifest)).result(),
    );
    const table = stageTable(state);
    assert.deepEqual([table.tag, table.ci, table.artifacts], ['succeeded', 'succeeded', 'succeeded']);
    const inputs = calls.versionRepository.map(
      ([input]) => input as { tag: string; repository: { buildBranch: string; baseBranch: string }; values: Record<string, string> },
    );
    assert.deepEqual(
      inputs.map((input) => [input.repository.baseBranch, input.repository.buildBranch, input.tag]),
      [
        ['3.4.2-build', '3.4.2-build', '3.4.2'],
        ['1.5.2-build', '1.5.2-build', '1.5.2'],
      ],
    );
    // What the rules write into sibling references: the tags, not the moving branches.
    assert.deepEqual([inputs[0].values.core_ref, inputs[0].values.plugins_ref], ['3.4.2', '1.5.2']);
    assert.equal(calls.waitForCi.length, 1);
  });

  it('a tag the version push could not make (the remote had it) is made by the tag stage, for that repository only', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({
      versionRepository: async (input: never) => {
        const { tag, repository } = input as { tag?: string; repository: { name: string } };
        const tagged = tag && repository.name !== 'core' ? { tagged: { tag, sha: 'b'.repeat(40), created: true } } : {};
        return { headSha: 'b'.repeat(40), changedFiles: ['setup.py'], committed: true, ...tagged };
      },
    });
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'nightly', undefined)).result());
    assert.equal(state.status, 'succeeded');
    assert.deepEqual(
      calls.tagRepository.map(([input]) => (input as { repository: { name: string } }).repository.name),
      ['core'],
    );
    assert.ok(state.repositories.every((repository) => repository.tagSha === 'b'.repeat(40)));
  });

  it('github.releases: drafts after the artifacts with notes and files, published by the announce stage even without mail', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const manifest = fullManifest({ github: { releases: true, tokenEnv: 'GH_TOKEN' }, notifications: {} });
    const state = await withWorkers({ taskQueue, activities }, async () =>
      (await startRelease(taskQueue, 'nightly', undefined, manifest)).result(),
    );
    assert.equal(state.status, 'succeeded');
    const inputs = calls.publishGithubReleases.map(
      ([input]) =>
        input as {
          github: { owner: string; tokenEnv: string };
          releases: { repository: string; tag: string; draft: boolean; body: string }[];
        },
    );
    assert.deepEqual(
      inputs.map((input) => input.releases.map((release) => [release.repository, release.tag, release.draft])),
      [
        [
          ['core', 'nightly-20261124', true],
          ['plugin', 'nightly-20261124', true],
        ],
        [
          ['core', 'nightly-20261124', false],
          ['plugin', 'nightly-20261124', false],
        ],
      ],
    );
    assert.deepEqual(inputs[0].github, { apiUrl: 'https://api.github.com', owner: 'org', tokenEnv: 'GH_TOKEN' }, 'the owner from ci');
    assert.match(inputs[0].releases[0].body, /^\| \[ui\.tgz\]\(http:\/\/storage\/ui\.tgz\) \| `(ab){32}` \|$/m);
    assert.equal(calls.announceRelease, undefined, 'no mail or webhook configured');
    assert.equal(state.stages.find((stage) => stage.name === 'announce')?.detail, '2 GitHub releases (2 created)');
    assert.deepEqual(
      state.repositories.map((repository) => repository.githubRelease),
      [
        { url: 'https://github.example/core/releases/nightly-20261124', draft: false },
        { url: 'https://github.example/plugin/releases/nightly-20261124', draft: false },
      ],
    );
  });

  it('patch milestone 3.4.2m1: tagged and tested like a milestone, on the patch branch', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'patch', '3.4.2m1')).result());
    const table = stageTable(state);
    assert.deepEqual([table.tag, table.ci, table.artifacts], ['succeeded', 'succeeded', 'succeeded']);
    // A patch moves the plugins stream with it: 1.5 in 3.4.2m1 is 1.5.2m1, never the GA's 1.5 line.
    assert.deepEqual(calls.versionRepository.map((call) => (call[0] as { tag: string; repository: { buildBranch: string } }).tag).sort(), [
      '1.5.2m1',
      '3.4.2m1',
    ]);
    assert.deepEqual(
      calls.versionRepository.map((call) => (call[0] as { repository: { buildBranch: string } }).repository.buildBranch),
      ['3.4-patch2', '3.4-patch2'],
    );
    // The build number is taken once, after the preflight, and reaches the rules, the builds, artifacts.json and the report.
    assert.equal(calls.allocateBuildNumber.length, 1);
    assert.equal(state.build, 274);
    assert.equal((calls.checkoutRepository[0][0] as { versionRules: { values: { build: number } } }).versionRules.values.build, 274);
    assert.equal((calls.buildArtifact[0][0] as { build: number }).build, 274);
    assert.equal((calls.publishArtifactsManifest[0][0] as { build: number }).build, 274);
    assert.match(terminalReport(releaseReport(state)), /^kind {5}patch {2}3\.4\.2m1 {2}build 274$/m);
  });

  for (const [kind, version] of [
    ['milestone', '3.4m5'],
    ['ga', '3.4'],
  ] as const) {
    it(`${kind}: waits at the PyPI and docs gates, publishes after approval`, async function () {
      const taskQueue = uniqueTaskQueue('wf');
      const { activities, calls } = fakeActivities();
      const state = await withWorkers({ taskQueue, activities }, async () => {
        const handle = await startRelease(taskQueue, kind, version);
        const waiting = await waitFor(handle, openGate('pypi'), 'the pypi gate');
        assert.equal(waiting.status, 'waiting');
        // What the Web UI shows: the stages, the open gate with its approvers and the exact command.
        const metadata = await handle.query(workflowMetadataQuery);
        const details = metadata.currentDetails ?? '';
        assert.match(
          details,
          new RegExp(`^\\*\\*wf ${kind} release ${version.replace('.', '\\.')}\\*\\*: waiting, stage pypi \\(build 274\\)$`, 'm'),
        );
        assert.match(details, /^\| 6 \| ci \| succeeded \| /m);
        assert.match(details, /^\*\*Waiting at the pypi gate\*\* for alice:$/m);
        assert.ok(details.includes(`\`relflow approve ${handle.workflowId} pypi --by <you>\``), details);
        assert.equal(calls.publishPythonPackage, undefined, 'nothing published before the gate');
        await waitFor(handle, () => Boolean(calls.sendAlert), 'the gate alert');
        assert.match(
          String((calls.sendAlert[0][0] as { message: { text: string } }).message.text),
          new RegExp(`relflow approve ${handle.workflowId} pypi`),
        );
        await decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice' }, true);
        await waitFor(handle, openGate('docs'), 'the docs gate');
        await decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'bob', comment: 'docs look fine' }, true);
        return handle.result();
      });
      assert.equal(state.status, 'succeeded');
      assert.deepEqual(stageTable(state).pypi, 'succeeded');
      assert.equal(calls.publishPythonPackage.length, 1, 'only the pypi repository');
      assert.deepEqual(
        calls.buildDocs.map(([input]) => (input as { project: string }).project),
        ['core-docs'],
      );
      assert.deepEqual(
        state.gates.map((gate) => [gate.name, gate.status, gate.by]),
        [
          ['pypi', 'approved', 'alice'],
          ['docs', 'approved', 'bob'],
        ],
      );
      assert.deepEqual(
        state.log.map((entry) => entry.action),
        ['approved gate pypi', 'approved gate docs: docs look fine'],
      );
    });
  }

  it('a CI failure keeps the artifacts, skips system tests and gates, and the announcement says why', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({
      waitForCi: async () => ({
        passed: false,
        repositories: [{ repository: 'core', result: 'failed', detail: 'unit' }],
        detail: 'CI failed on core (unit)',
      }),
    });
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'ga', '3.4')).result());
    const table = stageTable(state);
    assert.deepEqual(
      [table.ci, table.artifacts, table['system-tests'], table.pypi, table.docs, table.announce],
      ['failed', 'succeeded', 'skipped', 'skipped', 'skipped', 'succeeded'],
    );
    assert.equal(state.stages.find((stage) => stage.name === 'system-tests')?.detail, 'CI failed: CI failed on core (unit)');
    const announced = (calls.announceRelease[0][0] as { state: ReleaseState }).state;
    assert.equal(announced.ci?.passed, false);
    assert.equal(calls.runSystemTests, undefined);
  });

  it('gate refusals: wrong approver, gate not open, already decided; a rejection skips the publication', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const state = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'ga', '3.4');
      await assert.rejects(
        decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'bob' }, true),
        /refused: gate docs is not open/,
      );
      await waitFor(handle, openGate('pypi'), 'the pypi gate');
      await assert.rejects(
        decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'mallory' }, true),
        /refused: mallory may not decide gate pypi; approvers: alice/,
      );
      await decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice', comment: 'not this one' }, false);
      await assert.rejects(
        decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice' }, true),
        /refused: gate pypi was already decided: rejected by alice/,
      );
      await waitFor(handle, openGate('docs'), 'the docs gate');
      await handle.signal(approveSignal, { gate: 'docs', by: 'web-ui' });
      return handle.result();
    });
    assert.equal(calls.publishPythonPackage, undefined);
    assert.equal(state.stages.find((stage) => stage.name === 'pypi')?.detail, 'rejected by alice: not this one');
    assert.equal(
      state.stages.find((stage) => stage.name === 'pypi')?.status,
      'rejected',
      'a rejected gate is its own state, not succeeded',
    );
    assert.equal(state.status, 'succeeded');
    const mail = announcement(state);
    assert.match(mail.text, /^Outcome: succeeded with rejected gates: pypi \(rejected by alice: not this one\)$/m);
    assert.match(mail.html ?? '', /Outcome: succeeded with rejected gates: pypi/);
    assert.deepEqual(
      state.gates.map((gate) => [gate.name, gate.status, gate.by]),
      [
        ['pypi', 'rejected', 'alice'],
        ['docs', 'approved', 'web-ui'],
      ],
    );
  });

  it('the version step pins siblings by the package their setup.py declares, read at checkout', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({
      checkoutRepository: async (input: never) => ({
        baseSha: 'a'.repeat(40),
        warm: false,
        ...((input as { repository: { name: string } }).repository.name === 'core' ? { packageName: 'wf-cli' } : {}),
      }),
    });
    const manifest = fullManifest({ ci: { provider: 'none' }, systemTests: undefined, versionRules: [{ preset: 'cloudify' }] });
    const state = await withWorkers({ taskQueue, activities }, async () =>
      (await startRelease(taskQueue, 'nightly', undefined, manifest)).result(),
    );
    assert.equal(state.repositories.find((repository) => repository.name === 'core')?.packageName, 'wf-cli');
    const pattern = new RegExp(`^${String((calls.versionRepository[0][0] as { values: Record<string, string> }).values.core_siblings)}$`);
    assert.ok(pattern.test('wf-cli') && pattern.test('core') && !pattern.test('plugin'), String(pattern));
    // Where no rule names a sibling (the default setup.py and plugin.yaml rules), the patterns stay out of the inputs.
    const plain = fakeActivities();
    const defaults = fullManifest({ ci: { provider: 'none' }, systemTests: undefined });
    await withWorkers({ taskQueue: `${taskQueue}-plain`, activities: plain.activities }, async () =>
      (await startRelease(`${taskQueue}-plain`, 'nightly', undefined, defaults)).result(),
    );
    assert.equal('core_siblings' in (plain.calls.versionRepository[0][0] as { values: object }).values, false);
  });

  it('a gate that times out counts as rejected, after reminders', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    const manifest = fullManifest({ gates: { pypi: { timeout: '3s', reminderEvery: '1s' }, docs: { enabled: false } } });
    const state = await withWorkers({ taskQueue, activities }, async () => (await startRelease(taskQueue, 'ga', '3.4', manifest)).result());
    assert.equal(state.gates[0].status, 'timed-out');
    assert.match(state.stages.find((stage) => stage.name === 'pypi')?.detail ?? '', /timed out after 3s: counted as rejected/);
    const reminders = calls.sendAlert.filter(([input]) => /^Reminder/.test((input as { message: { subject: string } }).message.subject));
    assert.ok(reminders.length >= 1, 'at least one reminder');
    assert.equal(calls.publishPythonPackage, undefined);
  });

  it('blocked -> retry: the failed stage runs again and nothing before it is repeated', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    let failing = true;
    const { activities, calls } = fakeActivities({
      uploadSpecs: async () => {
        if (failing) throw new Error('mirror tarzan: connection refused');
        return [];
      },
    });
    const manifest = fullManifest({ ci: { provider: 'none' }, systemTests: undefined });
    const state = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined, manifest);
      const blocked = await waitFor(handle, (candidate) => candidate.status === 'blocked', 'blocked');
      assert.deepEqual(blocked.blocked && [blocked.blocked.stage, blocked.blocked.error], ['specs', 'mirror tarzan: connection refused']);
      const details = (await handle.query(workflowMetadataQuery)).currentDetails ?? '';
      assert.match(details, /^\*\*Blocked on specs\*\*: mirror tarzan: connection refused$/m);
      assert.ok(
        details.includes(
          `\`relflow retry ${handle.workflowId}\` | \`relflow skip ${handle.workflowId}\` | \`relflow abort ${handle.workflowId}\``,
        ),
        details,
      );
      // The release shows `blocked` before its alert activity has run.
      await waitFor(handle, () => Boolean(calls.sendAlert), 'the blocked alert');
      assert.match(String((calls.sendAlert.at(-1)?.[0] as { message: { text: string } }).message.text), /relflow retry /);
      await assert.rejects(operateRelease(testClient(), handle.workflowId, { action: 'abort', by: '' }), /refused: say who acts/);
      failing = false;
      assert.match(
        await operateRelease(testClient(), handle.workflowId, { action: 'retry', by: 'carol' }),
        /retry accepted for stage specs/,
      );
      await assert.rejects(
        operateRelease(testClient(), handle.workflowId, { action: 'retry', by: 'carol' }),
        /refused: release .* is not blocked/,
      );
      return handle.result();
    });
    assert.equal(state.status, 'succeeded');
    assert.equal(calls.uploadSpecs.length, 4, '3 attempts, then the retry');
    assert.equal(calls.checkoutRepository.length, 2, 'checkout ran once per repository');
    assert.equal(calls.versionRepository.length, 2);
    // The second retry was refused, and the log keeps the attempt (the malformed abort by nobody it does not).
    assert.deepEqual(
      state.log.map((entry) => [entry.by, entry.action.replace(/release \S+ is/, 'release <id> is')]),
      [
        ['carol', 'retry stage specs'],
        ['carol', 'refused operator update: release <id> is not blocked (it is running at stage specs)'],
      ],
    );
  });

  it('blocked -> retry of the publish stage keeps its approved gate: no second approval, no second waiting mail', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    let failing = true;
    const { activities, calls } = fakeActivities({
      publishPythonPackage: async () => {
        if (failing) throw ApplicationFailure.nonRetryable('twine: 503 from the index');
        return { repository: 'core', uploaded: ['core-3.4.tar.gz'], skipped: [] };
      },
    });
    const state = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'ga', '3.4');
      await waitFor(handle, openGate('pypi'), 'the pypi gate');
      await decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice' }, true);
      await waitFor(handle, (candidate) => candidate.blocked?.stage === 'pypi', 'blocked on pypi');
      failing = false;
      await operateRelease(testClient(), handle.workflowId, { action: 'retry', by: 'carol' });
      await waitFor(handle, openGate('docs'), 'the docs gate');
      const atDocs = await handle.query(releaseStateQuery);
      assert.equal(atDocs.gates.find((gate) => gate.name === 'pypi')?.status, 'approved');
      await decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'bob' }, true);
      return handle.result();
    });
    assert.equal(state.status, 'succeeded');
    assert.deepEqual(state.repositories.find((repository) => repository.name === 'core')?.published, ['core-3.4.tar.gz']);
    const subjects = (calls.sendAlert ?? []).map((args) => (args[0] as { message: { subject: string } }).message.subject);
    assert.equal(subjects.filter((subject) => /Waiting for the pypi gate/.test(subject)).length, 1, subjects.join('\n'));
    assert.deepEqual(
      state.log.map((entry) => [entry.by, entry.action]),
      [
        ['alice', 'approved gate pypi'],
        ['carol', 'retry stage pypi'],
        ['bob', 'approved gate docs'],
      ],
    );
  });

  it('a missing secret is one failure type, never retried: the stage blocks after one attempt', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({
      uploadSpecs: async () => {
        throw new MissingSecret('storage.secretAccessKeyEnv: environment variable AWS_SECRET_ACCESS_KEY is not set on the worker');
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined, fullManifest({ ci: { provider: 'none' } }));
      const blocked = await waitFor(handle, (state) => state.status === 'blocked', 'blocked');
      assert.equal(
        blocked.blocked?.error,
        'storage.secretAccessKeyEnv: environment variable AWS_SECRET_ACCESS_KEY is not set on the worker',
      );
      assert.equal(calls.uploadSpecs.length, 1, 'not retried');
      await handle.terminate('test done');
    });
  });

  it('hostile signals cannot hurt a release: an undecodable one, a refused one (logged once), an oversized comment', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities } = fakeActivities();
    const state = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'ga', '3.4');
      await waitFor(handle, openGate('pypi'), 'the pypi gate');
      // A raw signal in an encoding no converter knows, as `temporal workflow signal --input-meta encoding=foo/bar` sends it.
      await testClient().workflowService.signalWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: handle.workflowId },
        signalName: 'approve',
        input: { payloads: [{ metadata: { encoding: new TextEncoder().encode('foo/bar') }, data: new TextEncoder().encode('{}') }] },
        identity: 'test',
      });
      await handle.signal(approveSignal, { gate: 'pypi', by: 'mallory' });
      await handle.signal(approveSignal, { gate: 'pypi', by: 'mallory' });
      await handle.signal(approveSignal, { gate: 'pypi', by: 'alice', comment: 'x'.repeat(3000) });
      await assert.rejects(
        decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice', comment: 'y'.repeat(1_200_000) }, true),
        /refused: comment: text of at most 2000 characters/,
      );
      await assert.rejects(
        decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'a'.repeat(65) }, true),
        /refused: by: at most 64 characters/,
      );
      // The release still answers and goes on.
      await decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice' }, true);
      await waitFor(handle, openGate('docs'), 'the docs gate');
      await decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'bob' }, true);
      return handle.result();
    });
    assert.equal(state.status, 'succeeded');
    const refusals = state.log.filter((entry) => entry.action.startsWith('refused '));
    assert.deepEqual(
      refusals.map((entry) => [entry.by, entry.action]),
      [
        [
          'unknown',
          'refused approve signal: the decision could not be decoded (encoding foo/bar): send JSON such as {"gate": "pypi", "by": "alice"}',
        ],
        ['mallory', 'refused approve signal: mallory may not decide gate pypi; approvers: alice'],
        ['alice', 'refused approve signal: comment: text of at most 2000 characters'],
      ],
    );
  });

  it("a flood of large refused signals stays under the history's limit (deploy/temporal-dynamicconfig.yaml): the release survives and counts them", async function () {
    this.timeout(120_000);
    const taskQueue = uniqueTaskQueue('wf');
    const { activities } = fakeActivities();
    const outcomes: string[] = [];
    let historyBytes = 0;
    const state = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'ga', '3.4');
      await waitFor(handle, openGate('pypi'), 'the pypi gate');
      // 29 signals of 1.9 MB are 55 MB: without a bound the server terminates the release at 50 MB of history.
      const decision = new TextEncoder().encode(JSON.stringify({ gate: 'pypi', by: 'mallory', comment: 'x'.repeat(1_900_000) }));
      for (let sent = 0; sent < 29; sent += 1) {
        outcomes.push(
          await testClient()
            .workflowService.signalWorkflowExecution({
              namespace: 'default',
              workflowExecution: { workflowId: handle.workflowId },
              signalName: 'approve',
              input: { payloads: [{ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: decision }] },
              identity: 'mallory',
            })
            .then(
              () => 'accepted',
              (error: Error) => error.message,
            ),
        );
      }
      // The CLI decides with updates, which no signal limit touches.
      await decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice' }, true);
      await waitFor(handle, openGate('docs'), 'the docs gate');
      await decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'bob' }, true);
      const result = await handle.result();
      historyBytes = Number((await handle.describe()).raw.workflowExecutionInfo?.historySizeBytes ?? 0);
      return result;
    });
    assert.equal(state.status, 'succeeded');
    const accepted = outcomes.filter((outcome) => outcome === 'accepted').length;
    assert.equal(accepted, 20, `the server took 20 signals:\n${outcomes.join('\n')}`);
    assert.ok(
      outcomes.slice(accepted).every((outcome) => /exceeded workflow execution limit for signal events/.test(outcome)),
      outcomes.join('\n'),
    );
    assert.ok(historyBytes > 20 * 1_900_000 && historyBytes < 50 * 1024 * 1024, `history of ${historyBytes} bytes`);
    assert.equal(state.refusedSignals, 20);
    const refusals = state.log.filter((entry) => entry.action.startsWith('refused '));
    assert.deepEqual(
      refusals.map((entry) => entry.action),
      ['refused approve signal: comment: text of at most 2000 characters'],
      'one log line, not twenty payloads',
    );
    assert.match(releaseReport(state).decisions.join('\n'), /19 more refused signals \(repeats, or past the first 1\), not shown/);
  });

  it('a release started by any client checks its own input: a hostile ID or manifest fails at plan, before any activity', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const hostile: [string, unknown, RegExp][] = [
        [
          '../../escape',
          { manifest: manifestOf(fullManifest()), kind: 'nightly', date: '20261124' },
          /release ID '\.\.\/\.\.\/escape': expected letters/,
        ],
        [
          `wf-hostile-${Date.now()}-1`,
          {
            manifest: {
              ...manifestOf(fullManifest()),
              artifacts: [{ name: '../../x', repository: 'core', builder: 'local', command: 'true', outputs: ['x'] }],
            },
            kind: 'nightly',
          },
          /artifacts\[0\]\.name: a name of letters/,
        ],
        [
          `wf-hostile-${Date.now()}-2`,
          { manifest: manifestOf(fullManifest()), kind: 'weekly' },
          /kind: expected one of nightly, milestone, ga, patch/,
        ],
        [`wf-hostile-${Date.now()}-3`, undefined, /the release request must be an object/],
      ];
      for (const [workflowId, request, expected] of hostile) {
        const handle = await testClient().workflow.start(releaseWorkflow, { taskQueue, workflowId, args: [request as never] });
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError);
          assert.match(errorMessage(error), expected);
          return true;
        });
      }
    });
    assert.deepEqual(Object.keys(calls), [], 'no activity ran');
  });

  it('a repository batch started by any client runs only its five activities: a signing activity is refused before it runs', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const hostile: [unknown, RegExp][] = [
        [
          { activity: 'publishChecksums', parallelism: 1, items: [{ repository: 'x', input: {} }] },
          /activity must be one of checkoutRepository, versionRepository, tagRepository, publishPythonPackage, buildDocs, got "publishChecksums"/,
        ],
        [{ activity: 'publishProvenance', parallelism: 1, items: [] }, /got "publishProvenance"/],
        [{ activity: 'tagRepository', parallelism: 0, items: [] }, /parallelism a positive integer/],
        [undefined, /activity must be one of/],
        // A well-formed batch of the worker's own activities, started by a client: its input is no release's.
        [
          { activity: 'tagRepository', parallelism: 1, items: [{ repository: 'core', input: { url: '/srv/core.git', tag: 'x' } }] },
          /repositoryBatchWorkflow runs only as a child of a release \(relflow start\), not when a client starts it/,
        ],
      ];
      for (const [index, [batch, expected]] of hostile.entries()) {
        const handle = await testClient().workflow.start(repositoryBatchWorkflow, {
          taskQueue,
          workflowId: `wf-batch-${process.pid}-${Date.now()}-${index}`,
          args: [batch as never],
        });
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError);
          assert.match(errorMessage(error), expected);
          return true;
        });
      }
    });
    assert.deepEqual(Object.keys(calls), [], 'no activity ran');
  });

  it('an artifact build started by any client is refused before any activity: a command of its choosing never runs', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await testClient().workflow.start(artifactWorkflow, {
        taskQueue,
        workflowId: `wf-artifact-${process.pid}-${Date.now()}`,
        args: [{ artifact: { name: 'x', command: 'cat /proc/*/environ', outputs: ['x'] } } as never],
      });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.match(errorMessage(error), /artifactWorkflow runs only as a child of a release/);
        return true;
      });
    });
    assert.deepEqual(Object.keys(calls), [], 'no activity ran');
  });

  it('a failed preflight blocks the release before the checkout: nothing is pushed', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({
      preflightRelease: async () => {
        throw ApplicationFailure.nonRetryable(
          'preflight: 1 problem, nothing was changed:\n- ci.tokenEnv: environment variable GH is not set on the worker',
          'PreflightFailed',
        );
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined);
      const blocked = await waitFor(handle, (state) => state.status === 'blocked', 'blocked');
      assert.equal(blocked.blocked?.stage, 'preflight');
      assert.match(blocked.blocked?.error ?? '', /ci\.tokenEnv: environment variable GH is not set/);
      assert.equal(calls.preflightRelease.length, 1, 'not retried');
      await handle.terminate('test done');
    });
    assert.equal(calls.checkoutRepository, undefined, 'nothing was checked out, committed or pushed');
  });

  it('blocked -> skip where allowed (specs), refused where not (version); abort ends the release', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities } = fakeActivities({
      uploadSpecs: async () => {
        throw new Error('storage down');
      },
      versionRepository: async () => {
        throw ApplicationFailure.nonRetryable('push rejected by hook', 'GitPushRejected');
      },
    });
    const manifest = fullManifest({ ci: { provider: 'none' } });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined, manifest);
      await waitFor(handle, (state) => state.blocked?.stage === 'version', 'blocked on version');
      await assert.rejects(
        operateRelease(testClient(), handle.workflowId, { action: 'skip', by: 'dan' }),
        /refused: stage version cannot be skipped/,
      );
      await operateRelease(testClient(), handle.workflowId, { action: 'abort', by: 'dan', reason: 'bad hook' });
      const state = await handle.result();
      assert.equal(state.status, 'aborted');
      assert.equal(stageTable(state).version, 'failed');
      assert.equal(stageTable(state).specs, 'pending');
    });
    const second = fakeActivities({
      uploadSpecs: async () => {
        throw new Error('storage down');
      },
    });
    await withWorkers({ taskQueue: `${taskQueue}-2`, activities: second.activities }, async () => {
      const handle = await startRelease(`${taskQueue}-2`, 'nightly', undefined, manifest);
      await waitFor(handle, (state) => state.blocked?.stage === 'specs', 'blocked on specs');
      await operateRelease(testClient(), handle.workflowId, { action: 'skip', by: 'erin' });
      const state = await handle.result();
      assert.equal(state.status, 'succeeded');
      assert.equal(stageTable(state).specs, 'skipped');
      assert.match(state.stages.find((stage) => stage.name === 'specs')?.detail ?? '', /skipped by erin after: storage down/);
      assert.equal(stageTable(state).artifacts, 'succeeded');
    });
  });

  it('cancelling the release cancels the builds and tears every machine down', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const { activities, calls } = fakeActivities({ buildArtifact: untilCancelled });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined, fullManifest({ ci: { provider: 'none' } }));
      await waitFor(handle, (state) => state.artifacts.length === 2 && (calls.buildArtifact?.length ?? 0) === 2, 'both builds running');
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError);
      const state = await handle.query(releaseStateQuery);
      assert.equal(state.status, 'cancelled');
    });
    assert.deepEqual(calls.tearDownBuilder.map(([input]) => (input as { machine: { id: string } }).machine.id).sort(), [
      'machine-agent',
      'machine-ui',
    ]);
  });

  it('a 501-repository release keeps its own history bounded: per-repository work runs in child workflows of 100', async function () {
    const taskQueue = uniqueTaskQueue('wf');
    const names = Array.from({ length: 501 }, (_, index) => `r${String(index).padStart(3, '0')}`);
    let broken = 'r250';
    const { activities, calls } = fakeActivities({
      versionRepository: async (input: never) => {
        const name = (input as { repository: { name: string } }).repository.name;
        if (name === broken) throw ApplicationFailure.nonRetryable(`${name}: rule setup.py matched nothing`, 'InvalidRelease');
        return { headSha: 'b'.repeat(40), changedFiles: ['setup.py'], committed: true };
      },
    });
    const manifest = fullManifest({
      repositories: names.map((name) => ({ name, url: `/srv/${name}.git` })),
      artifacts: [],
      ci: { provider: 'none' },
      systemTests: undefined,
      git: { parallelism: 16 },
    });
    const { state, history, workflowId } = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await startRelease(taskQueue, 'nightly', undefined, manifest);
      const blocked = await waitFor(handle, (candidate) => candidate.status === 'blocked', 'blocked on version');
      assert.deepEqual(blocked.blocked && [blocked.blocked.stage, blocked.blocked.error], [
        'version',
        'r250: rule setup.py matched nothing',
      ]);
      assert.equal(blocked.repositories.find((repository) => repository.name === 'r250')?.status, 'failed');
      assert.equal(blocked.repositories.filter((repository) => repository.status === 'succeeded').length, 500);
      broken = '';
      await operateRelease(testClient(), handle.workflowId, { action: 'retry', by: 'carol' });
      return { state: await handle.result(), history: await handle.fetchHistory(), workflowId: handle.workflowId };
    });
    assert.equal(state.status, 'succeeded');
    assert.equal(calls.checkoutRepository.length, 501, 'one checkout per repository');
    assert.equal(calls.versionRepository.length, 502, 'every repository once, then the failed one again');
    assert.equal(calls.tagRepository.length, 501);
    const events = history.events ?? [];
    const children = events.filter((event) => event.startChildWorkflowExecutionInitiatedEventAttributes);
    // checkout, version and tag: 6 batches each (100 x 5 + 1); the retried version ran its one repository in the release itself.
    assert.equal(children.length, 18);
    assert.ok(events.length < 600, `the release's history has ${events.length} events for 501 repositories`);
    // The batched release replays on the current code.
    await Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: { payloadConverterPath: payloadConverterPath() } },
      history,
      workflowId,
    );
  });
});
