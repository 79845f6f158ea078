import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { decideGate } from '../../src/client/releases';
import type { ReleaseState } from '../../src/release/model';
import { releaseStateQuery } from '../../src/workflows/api';
import { projectRoot } from '../../src/worker/tools';
import { DEFAULT_DEPLOYMENT } from '../../src/worker/versioning';
import { createGaFixture, DEMO_REPOSITORIES, GaFixture } from '../support/gaFixture';
import { startProductionTopology, startWithCli, ProductionTopology } from '../support/production';
import { systemServer } from '../support/systemServer';
import { tempDir } from '../support/temporal';

const TASK_QUEUE = 'relflow';
const BUILD_TASK_QUEUE = 'relflow-builds';

/**
 * The workflow code of a next build whose release workflow is incompatible with the current one: a timer
 * before every stage. A release started on the current build and replayed on this one would fail with a
 * nondeterminism error at its first stage.
 */
async function incompatibleBundle(dir: string): Promise<string> {
  const variant = join(projectRoot, 'lib', 'upgrade-variant');
  rmSync(variant, { recursive: true, force: true });
  cpSync(join(projectRoot, 'lib', 'src'), join(variant, 'src'), { recursive: true });
  const release = join(variant, 'src', 'workflows', 'release.js');
  const code = readFileSync(release, 'utf8');
  assert.ok(code.includes('release.enterStage(stage.name);'));
  writeFileSync(
    release,
    code.replace('release.enterStage(stage.name);', 'await (0, workflow_1.sleep)(1);\n        release.enterStage(stage.name);'),
  );
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(variant, 'src', 'workflows', 'index.js'),
    payloadConverterPath: join(variant, 'src', 'workflows', 'payloadConverter.js'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
  });
  const file = join(dir, 'workflows-next.js');
  writeFileSync(file, bundle.code);
  return file;
}

describe('an upgrade while a GA waits at its gate: Worker Versioning on the production topology', function () {
  this.timeout(900_000);
  let fixture: GaFixture;
  let topology: ProductionTopology;

  before(async function () {
    fixture = await createGaFixture(tempDir('upgrade'), { product: 'upgrade' });
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

  const start = (args: string[]) => startWithCli(topology, fixture, { taskQueue: TASK_QUEUE, buildTaskQueue: BUILD_TASK_QUEUE }, args);
  const buildOf = async (workflowId: string) =>
    (await topology.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId;
  const drainage = async (buildId: string) => {
    const { workerDeploymentVersionInfo } = await topology.client.workflowService.describeWorkerDeploymentVersion({
      namespace: topology.namespace,
      deploymentVersion: { deploymentName: DEFAULT_DEPLOYMENT, buildId },
    });
    return temporal.api.enums.v1.VersionDrainageStatus[workerDeploymentVersionInfo?.drainageInfo?.status ?? 0];
  };

  it('the GA finishes on the build that started it, with every effect once; a new release runs on the next build; the old one drains', async function () {
    for (const name of DEMO_REPOSITORIES) fixture.ciStates[name] = 'success';
    const ga = start(['ga', '--version', '3.4']);
    const handle = topology.client.workflow.getHandle(ga);
    const openGate = async (gate: string) => {
      for (;;) {
        const state = await handle.query(releaseStateQuery);
        if (state.gates.some((candidate) => candidate.name === gate && candidate.status === 'open')) return;
        assert.ok(['running', 'waiting'].includes(state.status), `${state.status}: ${JSON.stringify(state.blocked)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await openGate('pypi');
    const first = await buildOf(ga);
    assert.ok(first, 'the GA is pinned to a build');

    // The deploy: the next build's workers start, one of them makes it current; the first build's keep running.
    const next = await incompatibleBundle(topology.root);
    const nextRelease = await topology.addWorker('release', { env: { RELFLOW_WORKFLOW_BUNDLE: next }, args: ['--set-current'] });
    await topology.addWorker('build', { env: { RELFLOW_WORKFLOW_BUNDLE: next } });
    let second: string | undefined;
    for (let waited = 0; !second && waited < 60_000; waited += 500) {
      second = /deployment relflow, build (\S+): current/.exec(readFileSync(nextRelease.log, 'utf8'))?.[1];
      if (!second) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(second && second !== first, `the next build became current: ${readFileSync(nextRelease.log, 'utf8').slice(-2000)}`);
    const switched = Date.now();
    assert.equal(await drainage(first), 'VERSION_DRAINAGE_STATUS_DRAINING', 'the first build drains while the GA is open');

    for (const [gate, by] of [
      ['pypi', 'alice'],
      ['docs', 'bob'],
    ] as const) {
      await openGate(gate);
      await decideGate(topology.client, ga, { gate, by }, true);
    }
    const state = (await handle.result()) as ReleaseState;
    assert.equal(state.status, 'succeeded', JSON.stringify(state.blocked));
    assert.equal(await buildOf(ga), first, 'the GA finished on the build that started it');
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!/nondetermin|WorkflowTaskFailed/i.test(history), 'no workflow task failed');
    for (const repository of state.repositories) {
      const remote = join(fixture.root, 'product', 'remotes', `${repository.name}.git`);
      const commits = spawnSync('git', ['-C', remote, 'log', '--all', '--format=%s'], { encoding: 'utf8' }).stdout.split('\n');
      assert.equal(
        commits.filter((subject) => subject === `Release upgrade ${state.releaseName}`).length,
        1,
        `${repository.name}: one version commit`,
      );
    }
    assert.equal(fixture.inbox.mails.filter((mail) => /ga release 3\.4/.test(mail.subject ?? '')).length, 1, 'one announcement');

    const nightly = start(['nightly', '--date', '20261204']);
    const nightlyState = (await topology.client.workflow.getHandle(nightly).result()) as ReleaseState;
    assert.equal(nightlyState.status, 'succeeded');
    assert.equal(await buildOf(nightly), second, 'a new release runs on the next build');

    // Drained: no open workflow is pinned to the first build (the server looks every VersionDrainageStatusRefreshInterval).
    let status = await drainage(first);
    while (status !== 'VERSION_DRAINAGE_STATUS_DRAINED' && Date.now() - switched < 600_000) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      status = await drainage(first);
    }
    assert.equal(status, 'VERSION_DRAINAGE_STATUS_DRAINED');
    console.log(
      `      the first build drained ${Math.round((Date.now() - switched) / 1000)} s after the switch (the GA closed in between)`,
    );
  });
});
