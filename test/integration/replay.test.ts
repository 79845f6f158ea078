import { payloadConverterPath } from '../../src/worker/worker';
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { ManifestInput } from '../../src/config/manifest';
import { decideGate } from '../../src/client/releases';
import { projectRoot } from '../../src/worker/tools';
import { releaseWorkflow } from '../../src/workflows';
import { releaseStateQuery } from '../../src/workflows/api';
import { fakeActivities } from '../support/fakeActivities';
import { manifestOf } from '../support/manifests';
import { testClient, uniqueTaskQueue, withWorkers, workflowBundle } from '../support/temporal';

const HISTORIES = join(projectRoot, 'test', 'histories');

const manifest: ManifestInput = {
  product: 'replay',
  versions: { core: '3.5', plugins: '1.5' },
  repositories: [
    { name: 'core', url: '/srv/core.git', pypi: true, readthedocs: 'core', typesYaml: 'types.yaml' },
    { name: 'plugin', url: '/srv/plugin.git', stream: 'plugins' },
  ],
  artifacts: [{ name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'] }],
  storage: { bucket: 'releases' },
  ci: { provider: 'command', command: 'true' },
  systemTests: { command: 'true' },
  pypi: { repositoryUrl: 'http://pypi.invalid/' },
  readthedocs: { tokenEnv: 'RTD' },
  notifications: { webhooks: [{ name: 'chat', urlEnv: 'CHAT' }] },
};

/** Records one history per release kind (RELFLOW_RECORD_HISTORIES=1), to be replayed by every later version of the workflow code. */
async function record(kind: 'nightly' | 'milestone' | 'ga' | 'patch', version?: string): Promise<void> {
  const taskQueue = uniqueTaskQueue('record');
  const { activities } = fakeActivities();
  const history = await withWorkers({ taskQueue, activities }, async () => {
    const handle = await testClient().workflow.start(releaseWorkflow, {
      taskQueue,
      workflowId: `replay-${kind}-${Date.now()}`,
      args: [{ manifest: manifestOf(manifest), kind, version, date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
    });
    if (kind === 'milestone' || kind === 'ga') {
      for (const gate of ['pypi', 'docs'] as const) {
        for (;;) {
          const state = await handle.query(releaseStateQuery);
          if (state.gates.some((candidate) => candidate.name === gate && candidate.status === 'open')) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await decideGate(testClient(), handle.workflowId, { gate, by: 'recorder' }, true);
      }
    }
    await handle.result();
    return { workflowId: handle.workflowId, history: await handle.fetchHistory() };
  });
  // Stored as encoded protobuf: the SDK's JSON helpers trip over two protobufjs copies in node_modules.
  const data = Buffer.from(temporal.api.history.v1.History.encode(history.history).finish()).toString('base64');
  writeFileSync(
    join(HISTORIES, `${kind}.json`),
    `${JSON.stringify({ kind, workflowId: history.workflowId, encoding: 'protobuf-base64', events: history.history.events?.length, data })}\n`,
  );
}

describe('determinism: recorded histories replay on the current workflow code', function () {
  this.timeout(120_000);

  before(async function () {
    if (process.env.RELFLOW_RECORD_HISTORIES !== '1') return;
    await record('nightly');
    await record('milestone', '3.4m5');
    await record('ga', '3.4');
    await record('patch', '3.4.2');
  });

  it('has a recorded history of each release kind, and of an artifact build from before its patches', function () {
    const files = existsSync(HISTORIES)
      ? readdirSync(HISTORIES)
          .filter((file) => file.endsWith('.json'))
          .sort()
      : [];
    // artifact-before-patches.json: an artifactWorkflow run by the code of fd07e80, before its three patched() changes.
    assert.deepEqual(
      files,
      ['artifact-before-patches.json', 'ga.json', 'milestone.json', 'nightly.json', 'patch.json'],
      'record the release kinds with RELFLOW_RECORD_HISTORIES=1 npm test',
    );
  });

  it('replays every recorded history without a nondeterminism error', async function () {
    const histories = readdirSync(HISTORIES)
      .filter((file) => file.endsWith('.json'))
      .map((file) => {
        const stored = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')) as { workflowId: string; data: string };
        return { workflowId: stored.workflowId, history: temporal.api.history.v1.History.decode(Buffer.from(stored.data, 'base64')) };
      });
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await workflowBundle(), dataConverter: { payloadConverterPath: payloadConverterPath() } },
      histories,
    ))
      results.push(result);
    assert.equal(results.length, histories.length);
    for (const result of results) assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
    assert.deepEqual(results.map((result) => result.workflowId.split('-')[1]).sort(), ['artifact', 'ga', 'milestone', 'nightly', 'patch']);
  });
});
