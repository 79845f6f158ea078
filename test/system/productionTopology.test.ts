import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { decideGate } from '../../src/client/releases';
import type { ReleaseState } from '../../src/release/model';
import { releaseStateQuery } from '../../src/workflows/api';
import { createGaFixture, DEMO_REPOSITORIES, FIXTURE_SECRETS, GaFixture } from '../support/gaFixture';
import { git } from '../support/gitRepos';
import { startProductionTopology, startWithCli, ProductionTopology, WorkerProcess } from '../support/production';
import { releaseWorkflowIds, resumedAfter, RunningActivity, waitForRunningActivity } from '../support/runningActivity';
import { systemServer } from '../support/systemServer';
import { tempDir } from '../support/temporal';

const TASK_QUEUE = 'relflow';
const BUILD_TASK_QUEUE = 'relflow-builds';

/** The worker process whose SDK identity (`pid@host`) ran the activity. */
function workerOf(topology: ProductionTopology, activity: RunningActivity): WorkerProcess {
  const worker = topology.workers.find((candidate) => candidate.process && activity.identity.startsWith(`${candidate.process.pid}@`));
  assert.ok(worker, `no worker process is ${activity.identity}`);
  return worker;
}

/** SIGKILLs the worker running `activity`, starts it again (the pool stays whole) and says how soon the release went on. */
async function killAndMeasure(topology: ProductionTopology, activity: RunningActivity): Promise<{ ms: number; by?: string }> {
  const worker = workerOf(topology, activity);
  const killedAt = Date.now();
  topology.killWorker(worker);
  const resumed = await resumedAfter(topology.client, activity, killedAt);
  await topology.startWorker(worker);
  return resumed;
}

function startRelease(topology: ProductionTopology, fixture: GaFixture, args: string[]): string {
  return startWithCli(topology, fixture, { taskQueue: TASK_QUEUE, buildTaskQueue: BUILD_TASK_QUEUE }, args);
}

describe('the production topology: Temporal on PostgreSQL, two release and two build workers as processes', function () {
  this.timeout(900_000);
  let fixture: GaFixture;
  let topology: ProductionTopology;

  before(async function () {
    const root = tempDir('topology');
    // The build takes a few seconds, so that a worker can be killed in the middle of it.
    fixture = await createGaFixture(root, { product: 'prodtopo', buildCommand: 'sleep 5 && ./build.sh' });
    topology = await startProductionTopology({
      taskQueue: TASK_QUEUE,
      buildTaskQueue: BUILD_TASK_QUEUE,
      env: fixture.env,
      shared: await systemServer(),
    });
  });

  after(async function () {
    await topology?.stop();
    await fixture?.close();
  });

  async function settle(releaseId: string): Promise<ReleaseState> {
    const handle = topology.client.workflow.getHandle(releaseId);
    const state = (await handle.result()) as ReleaseState;
    assert.equal(state.status, 'succeeded', JSON.stringify(state.blocked ?? state.stages.find((stage) => stage.status === 'failed')));
    return state;
  }

  /** Checked with plain git on the remotes: one version commit per repository, its tag pointing at it. */
  function assertExactlyOnce(state: ReleaseState): void {
    const subject = `Release ${fixture.product} ${state.releaseName}`;
    for (const repository of state.repositories) {
      const remote = join(fixture.root, 'product', 'remotes', `${repository.name}.git`);
      assert.ok(repository.tag, `${repository.name} tagged`);
      const tagged = git(remote, 'rev-list', '-n', '1', repository.tag);
      const commits = git(remote, 'log', '--all', '--format=%H %s')
        .split('\n')
        .filter((line) => line.endsWith(` ${subject}`));
      assert.equal(commits.length, 1, `${repository.name}: one version commit '${subject}' (${commits.join('; ')})`);
      assert.equal(commits[0].split(' ')[0], tagged, `${repository.name}: ${repository.tag} points at the version commit`);
    }
  }

  async function assertNoSecretIn(releaseId: string): Promise<void> {
    const histories = await Promise.all(
      (await releaseWorkflowIds(topology.client, releaseId)).map(async (id) =>
        JSON.stringify(await topology.client.workflow.getHandle(id).fetchHistory()),
      ),
    );
    const logs = topology.workerLogs();
    // Each worker says which Node it runs on (the suite runs on the machine's Node and on Node 24).
    assert.ok(logs.includes(`[relflow worker] Node ${process.version}`), 'the worker logs its Node version');
    for (const secret of [
      FIXTURE_SECRETS.TEST_GITHUB_TOKEN,
      FIXTURE_SECRETS.TEST_PYPI_PASSWORD,
      FIXTURE_SECRETS.TEST_RTD_TOKEN,
      FIXTURE_SECRETS.TEST_SMTP_PASSWORD,
    ]) {
      assert.ok(!histories.some((history) => history.includes(secret)), `${secret} in a history`);
      assert.ok(!logs.includes(secret), `${secret} in a worker log`);
    }
  }

  it('a nightly started by `relflow start` finishes; a build worker SIGKILLed mid-build, the build goes on on another worker within 30 s', async function () {
    for (const name of DEMO_REPOSITORIES) fixture.ciStates[name] = 'success';
    const releaseId = startRelease(topology, fixture, ['nightly', '--date', '20261128']);
    const build = await waitForRunningActivity(topology.client, releaseId, (activity) => activity.type === 'buildArtifact');
    const resumed = await killAndMeasure(topology, build);
    assert.ok(resumed.ms < 30_000, `the build ran again after ${resumed.ms} ms`);
    assertExactlyOnce(await settle(releaseId));
    await assertNoSecretIn(releaseId);
  });

  it('a GA with both gates finishes; the release worker waiting on CI SIGKILLed, the wait goes on on the other worker within 30 s', async function () {
    for (const name of DEMO_REPOSITORIES) delete fixture.ciStates[name];
    const releaseId = startRelease(topology, fixture, ['ga', '--version', '3.4']);
    const waiting = await waitForRunningActivity(topology.client, releaseId, (activity) => activity.type === 'waitForCi');
    const resumed = await killAndMeasure(topology, waiting);
    assert.ok(resumed.ms < 30_000, `the CI wait ran again after ${resumed.ms} ms`);
    for (const name of DEMO_REPOSITORIES) fixture.ciStates[name] = 'success';
    const handle = topology.client.workflow.getHandle(releaseId);
    for (const [gate, by] of [
      ['pypi', 'alice'],
      ['docs', 'bob'],
    ] as const) {
      for (;;) {
        const state = await handle.query(releaseStateQuery);
        if (state.gates.some((candidate) => candidate.name === gate && candidate.status === 'open')) break;
        assert.ok(['running', 'waiting'].includes(state.status), `${state.status}: ${JSON.stringify(state.blocked)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await decideGate(topology.client, releaseId, { gate, by }, true);
    }
    const state = await settle(releaseId);
    assert.deepEqual(
      state.stages.filter((stage) => stage.status !== 'succeeded').map((stage) => stage.name),
      [],
    );
    assertExactlyOnce(state);
    assert.equal(fixture.inbox.mails.filter((mail) => /ga release 3\.4/.test(mail.subject ?? '')).length, 1, 'one announcement');
    await assertNoSecretIn(releaseId);
  });
});
