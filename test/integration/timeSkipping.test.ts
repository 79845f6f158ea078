import { strict as assert } from 'node:assert';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ManifestInput } from '../../src/config/manifest';
import { decideGate } from '../../src/client/releases';
import type { ReleaseState } from '../../src/release/model';
import { releaseStateQuery } from '../../src/workflows/api';
import { releaseWorkflow } from '../../src/workflows';
import { payloadConverterPath } from '../../src/worker/worker';
import { fakeActivities } from '../support/fakeActivities';
import { manifestOf } from '../support/manifests';
import { uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { createTimeSkippingEnvironment } from '../support/timeSkipping';

const HOUR = 3_600_000;

/** A GA whose PyPI gate has the manifest's defaults (3 days, a reminder every 12 hours); the docs gate is off. */
function gaManifest(): ManifestInput {
  return {
    product: 'days',
    versions: { core: '3.5', plugins: '1.5' },
    repositories: [{ name: 'core', url: '/srv/core.git', pypi: true }],
    storage: { bucket: 'releases' },
    ci: { provider: 'none' },
    gates: { pypi: { approvers: ['alice'] }, docs: { enabled: false } },
    pypi: { repositoryUrl: 'http://pypi.invalid/' },
    notifications: { webhooks: [{ name: 'chat', urlEnv: 'CHAT_URL' }] },
  };
}

const subjects = (calls: Record<string, unknown[][]>) =>
  (calls.sendAlert ?? []).map(([input]) => (input as { message: { subject: string } }).message.subject);

describe('gates over days of workflow time (@temporalio/testing, the time-skipping test server)', function () {
  this.timeout(180_000);
  let environment: TestWorkflowEnvironment;

  before(async function () {
    environment = await createTimeSkippingEnvironment();
  });

  after(async function () {
    await environment?.teardown();
  });

  async function withReleaseWorkers<T>(taskQueue: string, activities: object, run: () => Promise<T>): Promise<T> {
    const bundle = await workflowBundle();
    const worker = (queue: string) =>
      Worker.create({
        connection: environment.nativeConnection,
        taskQueue: queue,
        workflowBundle: bundle,
        dataConverter: { payloadConverterPath: payloadConverterPath() },
        activities,
      });
    const release = await worker(taskQueue);
    const builds = await worker(`${taskQueue}-builds`);
    return builds.runUntil(release.runUntil(run));
  }

  function start(taskQueue: string) {
    return environment.client.workflow.start(releaseWorkflow, {
      taskQueue,
      workflowId: `days-${taskQueue}`,
      args: [{ manifest: manifestOf(gaManifest()), kind: 'ga', version: '3.5', date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
    });
  }

  it('a gate nobody decides times out after its default 3 days, counted as rejected, after a reminder every 12 hours', async function () {
    const taskQueue = uniqueTaskQueue('days');
    const { activities, calls } = fakeActivities();
    const state = (await withReleaseWorkers(taskQueue, activities, async () => (await start(taskQueue)).result())) as ReleaseState;
    const gate = state.gates.find((candidate) => candidate.name === 'pypi');
    assert.equal(gate?.status, 'timed-out');
    // Its first reminder's activity takes a few milliseconds of workflow time, as it would of real time.
    const waited = Date.parse(gate.decidedAt as string) - Date.parse(gate.openedAt as string);
    assert.ok(waited >= 72 * HOUR && waited < 72 * HOUR + 60_000, `timed out ${waited / HOUR} hours after it opened`);
    assert.match(
      state.stages.find((stage) => stage.name === 'pypi')?.detail ?? '',
      /the pypi gate timed out after 3d: counted as rejected/,
    );
    const sent = subjects(calls).filter((subject) => /pypi gate/.test(subject));
    // The first mail as it opens, then one at 12, 24, 36, 48 and 60 hours; none at the deadline itself.
    assert.deepEqual(sent, [
      'Waiting for the pypi gate of days 3.5',
      ...Array.from({ length: 5 }, () => 'Reminder: still waiting for the pypi gate of days 3.5'),
    ]);
    assert.equal(calls.publishPythonPackage, undefined);
  });

  it('a release waiting almost three days at its gate is approved then, and publishes', async function () {
    const taskQueue = uniqueTaskQueue('days');
    const { activities, calls } = fakeActivities();
    const state = (await withReleaseWorkers(taskQueue, activities, async () => {
      const handle = await start(taskQueue);
      for (;;) {
        const current = await handle.query(releaseStateQuery);
        if (current.gates.some((gate) => gate.name === 'pypi' && gate.status === 'open')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await environment.sleep('71h');
      await decideGate(environment.client, handle.workflowId, { gate: 'pypi', by: 'alice', comment: 'after the long weekend' }, true);
      return handle.result();
    })) as ReleaseState;
    const gate = state.gates.find((candidate) => candidate.name === 'pypi');
    assert.equal(gate?.status, 'approved');
    const waited = Date.parse(gate.decidedAt as string) - Date.parse(gate.openedAt as string);
    assert.ok(waited >= 71 * HOUR && waited < 72 * HOUR, `decided ${waited / HOUR} hours after it opened`);
    assert.equal(subjects(calls).filter((subject) => /^Reminder: still waiting for the pypi gate/.test(subject)).length, 5);
    assert.equal(calls.publishPythonPackage?.length, 1);
    assert.equal(state.status, 'succeeded');
  });
});
