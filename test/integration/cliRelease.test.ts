import { strict as assert } from 'node:assert';
import type { Client } from '@temporalio/client';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { runCliAsync } from '../support/cli';
import { fakeActivities, untilCancelled } from '../support/fakeActivities';
import { createRetagActivities } from '../../src/activities/retagTarget';
import { tempDir, testClient, testServer, uniqueTaskQueue, until, withWorkers } from '../support/temporal';
import { releaseStateQuery } from '../../src/workflows/api';
import { ReleaseState } from '../../src/release/model';

const stateOf = (client: Client, id: string) => client.workflow.getHandle(id).query(releaseStateQuery);

describe('relflow CLI on releases (the real binary against the test server)', function () {
  this.timeout(180_000);
  let config: string;
  let env: NodeJS.ProcessEnv;
  let taskQueue: string;

  before(function () {
    const root = tempDir('cli-release');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n", 'types.yaml': 'x: 1\n' } });
    const docs = createRemote(root, { name: 'docs', files: { 'conf.py': "version = '3.3'\n" } });
    taskQueue = uniqueTaskQueue('cli-release');
    config = writeManifest(root, {
      product: 'clirel',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'core', url: core, pypi: true, typesYaml: 'types.yaml' },
        { name: 'docs', url: docs, readthedocs: 'docs' },
      ],
      storage: { bucket: 'unused' },
      gates: { pypi: { approvers: ['alice'] } },
      pypi: { repositoryUrl: 'http://pypi.invalid/' },
      readthedocs: { tokenEnv: 'RTD_TOKEN' },
    });
    env = {
      TEMPORAL_ADDRESS: testServer().address,
      RELFLOW_TASK_QUEUE: taskQueue,
      RELFLOW_BUILD_TASK_QUEUE: `${taskQueue}-builds`,
      USER: 'tester',
    };
  });

  it('watch stops at a gate (exit 3); approve, reject with reasons; status, report, list; retag', async function () {
    const { activities } = fakeActivities({ retagTarget: createRetagActivities({ PATH: process.env.PATH }).retagTarget as never });
    await withWorkers({ taskQueue, activities }, async () => {
      const started = await runCliAsync(['start', 'ga', '--version', '3.4', '-c', config, '--json'], env);
      assert.equal(started.status, 0, started.stderr);
      const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
      await until('the pypi gate', async () =>
        (await stateOf(testClient(), id)).gates.some((gate) => gate.status === 'open') ? true : undefined,
      );
      const watched = await runCliAsync(['watch', id, '--interval', '200'], env);
      assert.equal(watched.status, 3, watched.stderr);
      assert.match(watched.stdout, new RegExp(`waiting: relflow approve ${id} pypi --by <you>`));

      const refused = await runCliAsync(['approve', id, 'pypi', '--by', 'mallory'], env);
      assert.equal(refused.status, 2);
      assert.equal(refused.stderr.trim(), 'relflow: refused: mallory may not decide gate pypi; approvers: alice');
      const approved = await runCliAsync(['approve', id, 'pypi', '--by', 'alice', '--comment', 'ship it'], env);
      assert.equal(approved.status, 0, approved.stderr);
      assert.equal(approved.stdout.trim(), `gate pypi of ${id}: approved by alice`);

      await until('the docs gate', async () =>
        (await stateOf(testClient(), id)).gates.some((gate) => gate.name === 'docs' && gate.status === 'open') ? true : undefined,
      );
      const rejected = await runCliAsync(['reject', id, 'docs', '--by', 'bob', '--comment', 'docs are stale'], env);
      assert.equal(rejected.status, 0, 'a recorded rejection exits 0');
      assert.equal(rejected.stdout.trim(), `gate docs of ${id}: rejected by bob`);
      await testClient().workflow.getHandle(id).result();

      const status = await runCliAsync(['status', id], env);
      assert.equal(status.status, 1, 'a rejected gate: exit 1');
      assert.match(status.stdout, /docs\s+rejected\s+bob/);
      assert.match(status.stdout, /status\s+succeeded with rejected gates: docs \(rejected by bob: docs are stale\)/);
      assert.match(status.stdout, /\ndocs\s+rejected\s+\S+\s+rejected by bob: docs are stale/, 'the docs stage shows rejected');
      const report = await runCliAsync(['report', id], env);
      assert.equal(report.status, 0, report.stderr);
      assert.match(report.stdout, /^# clirel ga release 3\.4/);
      assert.match(report.stdout, /\| core \| a{40} \| b{40} \| 3\.4-build \| 3\.4 \|/);
      assert.match(report.stdout, /alice: approved gate pypi: ship it/);
      assert.match(report.stdout, /Gate docs: rejected by bob .*\(docs are stale\)/);
      assert.match(report.stdout, /: \*\*succeeded with rejected gates: docs \(rejected by bob: docs are stale\)\*\*/);
      assert.match(report.stdout, /\| docs \| rejected \|/);
      const html = await runCliAsync(['report', id, '--format', 'html'], env);
      assert.match(html.stdout, /^<!doctype html>/);
      assert.match(html.stdout, /<tr><td>core<\/td><td>a{40}<\/td><td>b{40}<\/td><td>3\.4-build<\/td><td>3\.4<\/td><\/tr>/);
      assert.match(html.stdout, /<li>Gate docs: rejected by bob/);
      const json = JSON.parse((await runCliAsync(['report', id, '--format', 'json'], env)).stdout) as ReleaseState;
      assert.equal(json.releaseId, id);
      const listed = await until('the release in list', async () => {
        const result = await runCliAsync(['list', '--kind', 'ga', '--product', 'clirel', '--json'], env);
        const releases = JSON.parse(result.stdout || '[]') as { releaseId: string; status: string }[];
        return releases.find((release) => release.releaseId === id && release.status === 'succeeded');
      });
      assert.equal(listed.releaseId, id);

      const released = await runCliAsync(['retag', id, '--repository', 'core', '--by', 'alice'], env);
      assert.equal(released.status, 2, released.stderr);
      assert.match(
        released.stderr,
        new RegExp(`^relflow: refused: tag '3\\.4' of core belongs to release ${id}, which succeeded at .*Pass --force if that is meant`),
      );
      const retag = await runCliAsync(['retag', id, '--repository', 'core', '--by', 'alice', '--force'], env);
      assert.equal(retag.status, 0, retag.stderr);
      assert.equal(retag.stdout.trim(), `tag 3.4 of core moved to ${'c'.repeat(40)}`);
    });
  });

  it('a blocked release is shown with its commands and resumed by `relflow retry`', async function () {
    let failing = true;
    const { activities, calls } = fakeActivities({
      uploadSpecs: async () => {
        if (failing) throw new Error('storage unreachable');
        return [];
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260303', '--json'], env);
      const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
      await until('blocked', async () => ((await stateOf(testClient(), id)).status === 'blocked' ? true : undefined));
      const status = await runCliAsync(['status', id], env);
      assert.equal(status.status, 1);
      assert.match(
        status.stdout,
        new RegExp(`BLOCKED on specs: storage unreachable\\n  relflow retry ${id} \\| relflow skip ${id} \\| relflow abort ${id}`),
      );
      failing = false;
      const retried = await runCliAsync(['retry', id, '--by', 'carol'], env);
      assert.equal(retried.status, 0, retried.stderr);
      const state: ReleaseState = await testClient().workflow.getHandle(id).result();
      assert.equal(state.status, 'succeeded');
      assert.equal(calls.checkoutRepository.length, 2);
    });
  });

  it('`relflow skip` passes a blocked stage, `relflow abort` ends a release', async function () {
    const { activities } = fakeActivities({
      uploadSpecs: async () => {
        throw new Error('storage unreachable');
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const startBlocked = async (date: string) => {
        const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', date, '--json'], env);
        const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
        await until('blocked', async () => ((await stateOf(testClient(), id)).status === 'blocked' ? true : undefined));
        return id;
      };
      const skipped = await startBlocked('20260304');
      const skip = await runCliAsync(['skip', skipped, '--by', 'carol', '--reason', 'specs go up by hand'], env);
      assert.equal(skip.status, 0, skip.stderr);
      assert.match(skip.stdout, /skip accepted for stage specs/);
      const done: ReleaseState = await testClient().workflow.getHandle(skipped).result();
      assert.equal(done.status, 'succeeded');
      assert.match(done.stages.find((stage) => stage.name === 'specs')?.detail ?? '', /^skipped by carol after: storage unreachable/);

      const aborted = await startBlocked('20260305');
      const abort = await runCliAsync(['abort', aborted, '--by', 'carol'], env);
      assert.equal(abort.status, 0, abort.stderr);
      await testClient().workflow.getHandle(aborted).result();
      const status = await runCliAsync(['status', aborted], env);
      assert.equal(status.status, 1, 'an aborted release exits 1');
      assert.match(status.stdout, /status\s+aborted/);
      const again = await runCliAsync(['abort', aborted, '--by', 'carol'], env);
      assert.equal(again.status, 2);
      assert.equal(again.stderr.trim(), `relflow: refused: release ${aborted} has ended (aborted); see \`relflow status ${aborted}\``);
    });
  });

  it('`relflow cancel` cancels a release while it builds, and its machines are torn down', async function () {
    const root = tempDir('cli-cancel');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const cancelConfig = writeManifest(root, {
      product: 'clicancel',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: core }],
      artifacts: [{ name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'] }],
      storage: { bucket: 'unused' },
    });
    const { activities, calls } = fakeActivities({ buildArtifact: untilCancelled });
    await withWorkers({ taskQueue, activities }, async () => {
      const started = await runCliAsync(['start', 'nightly', '-c', cancelConfig, '--date', '20260306', '--json'], env);
      const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
      await until('the build', async () => (calls.buildArtifact ? true : undefined));
      const cancel = await runCliAsync(['cancel', id], env);
      assert.equal(cancel.status, 0, cancel.stderr);
      assert.equal(cancel.stdout.trim(), `cancellation requested for ${id}`);
      await assert.rejects(testClient().workflow.getHandle(id).result());
      assert.equal((await stateOf(testClient(), id)).status, 'cancelled');
      assert.equal(calls.tearDownBuilder?.length, 1, 'the machine was torn down');
    });
  });

  it('schedules the nightly: create, list, trigger (a release starts), pause, delete', async function () {
    const { activities } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const scheduleId = `clirel-nightly-${Date.now()}`;
      const created = await runCliAsync(['schedule', 'create', 'nightly', '--cron', '0 3 * * *', '-c', config, '--id', scheduleId], env);
      assert.equal(created.status, 0, created.stderr);
      const again = await runCliAsync(['schedule', 'create', 'nightly', '--cron', '0 3 * * *', '-c', config, '--id', scheduleId], env);
      assert.equal(again.status, 2);
      assert.match(again.stderr, /already exists/);
      const listed = await until('the schedule in list', async () => {
        const result = await runCliAsync(['schedule', 'list', '--json'], env);
        return (JSON.parse(result.stdout || '[]') as { scheduleId: string }[]).find((entry) => entry.scheduleId === scheduleId);
      });
      assert.ok(listed);
      assert.equal((await runCliAsync(['schedule', 'trigger', scheduleId], env)).status, 0);
      const runId = await until('a scheduled nightly', async () => {
        const description = await testClient().schedule.getHandle(scheduleId).describe();
        return description.info.recentActions[0]?.action.workflow.workflowId;
      });
      assert.match(runId, /^clirel-nightly-/);
      const state: ReleaseState = await testClient().workflow.getHandle(runId).result();
      assert.equal(state.status, 'succeeded');
      assert.match(state.releaseName ?? '', /^nightly-\d{8}$/);
      assert.equal((await runCliAsync(['schedule', 'pause', scheduleId, '--note', 'release freeze'], env)).status, 0);
      const described = await runCliAsync(['schedule', 'describe', scheduleId], env);
      assert.match(described.stdout, /"paused": true/);
      assert.equal((await runCliAsync(['schedule', 'delete', scheduleId], env)).status, 0);
      const gone = await runCliAsync(['schedule', 'describe', scheduleId], env);
      assert.equal(gone.status, 2);
      assert.match(gone.stderr, /no schedule/);
    });
  });
});
