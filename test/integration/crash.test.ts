import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { releaseWorkflow } from '../../src/workflows';
import { releaseStateQuery } from '../../src/workflows/api';
import { ReleaseState } from '../../src/release/model';
import { createRemote, git } from '../support/gitRepos';
import { RELFLOW_BIN } from '../support/cli';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { tempDir, testClient, testServer, uniqueTaskQueue } from '../support/temporal';

function startWorkerProcess(taskQueue: string, workspace: string, log: string): ChildProcess {
  const out = openSync(log, 'a');
  return spawn(process.execPath, [RELFLOW_BIN, 'worker', '--task-queue', taskQueue, '--workspace', workspace], {
    env: { ...process.env, ...MOTO_ENV, TEMPORAL_ADDRESS: testServer().address },
    stdio: ['ignore', out, out],
  });
}

describe('a worker killed (SIGKILL) in the middle of the artifacts stage', function () {
  this.timeout(240_000);

  it('a new worker finishes the release with every effect present once', async function () {
    const root = tempDir('crash');
    const repos = ['core', 'ui'].map((name) =>
      createRemote(root, {
        name,
        files: {
          'setup.py': "setup(version='3.3')\n",
          'build.sh': `#!/bin/sh\nsleep 4\necho ${name} > ${name}.out\ntar czf ${name}.tgz ${name}.out\n`,
        },
      }),
    );
    const endpoint = await motoEndpoint();
    const storage = {
      bucket: 'crash-releases',
      endpoint,
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
      mirrors: [{ type: 'directory' as const, name: 'tarzan', path: join(root, 'tarzan') }],
    };
    await s3Client({ ...storage, region: 'us-east-1' }, { ...process.env, ...MOTO_ENV }).send(
      new CreateBucketCommand({ Bucket: 'crash-releases' }),
    );
    const manifest = validateManifest(
      {
        product: 'crash',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [
          { name: 'core', url: repos[0] },
          { name: 'ui', url: repos[1] },
        ],
        artifacts: ['core', 'ui'].map((name) => ({ name, repository: name, command: 'sh build.sh', outputs: [`${name}.tgz`] })),
        storage,
      },
      'crash manifest',
    );
    const taskQueue = uniqueTaskQueue('crash');
    const workspace = join(root, 'workspace');
    let release = startWorkerProcess(taskQueue, workspace, join(root, 'worker.log'));
    let builds = startWorkerProcess(`${taskQueue}-builds`, workspace, join(root, 'worker.log'));
    const handle = await testClient().workflow.start(releaseWorkflow, {
      taskQueue,
      workflowId: `crash-${Date.now()}`,
      args: [{ manifest, kind: 'nightly', date: '20261124', buildTaskQueue: `${taskQueue}-builds`, buildHeartbeatTimeout: '5 seconds' }],
    });
    const waitFor = async (predicate: (state: ReleaseState) => boolean, what: string) => {
      for (let attempt = 0; attempt < 600; attempt += 1) {
        const state = await handle.query(releaseStateQuery).catch(() => undefined);
        if (state && predicate(state)) return state;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const state = await handle.query(releaseStateQuery).catch((error) => String(error));
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify(state)}\n${readFileSync(join(root, 'worker.log'), 'utf8').slice(-3000)}`,
      );
    };
    await waitFor(
      (state) => state.stage === 'artifacts' && state.artifacts.every((artifact) => artifact.status === 'running'),
      'the builds to run',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    release.kill('SIGKILL');
    builds.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    release = startWorkerProcess(taskQueue, workspace, join(root, 'worker.log'));
    builds = startWorkerProcess(`${taskQueue}-builds`, workspace, join(root, 'worker.log'));
    try {
      const state = await waitFor((candidate) => candidate.status !== 'running', 'the release to end');
      assert.equal(state.status, 'succeeded', JSON.stringify(state.blocked));
      for (const remote of repos) {
        const subjects = git(remote, 'log', '--format=%s', 'master').split('\n');
        assert.equal(subjects.filter((subject) => subject.startsWith('Release crash')).length, 1, 'one version commit');
        assert.equal(git(remote, 'tag', '--list'), 'nightly-20261124');
      }
      const stored = state.artifacts
        .flatMap((artifact) => artifact.files ?? [])
        .map((file) => file.file)
        .sort();
      assert.deepEqual(stored, ['core.tgz', 'ui.tgz']);
      const mirrored = readdirSync(join(root, 'tarzan', 'org', 'crash', 'nightly', '20261124')).sort();
      assert.deepEqual(mirrored, [
        'RELEASE-NOTES.md',
        'RELEASE-NOTES.md.sha256',
        'SHA256SUMS',
        'SHA256SUMS.sha256',
        'artifacts.json',
        'artifacts.json.sha256',
        'core.tgz',
        'core.tgz.intoto.jsonl',
        'core.tgz.intoto.jsonl.sha256',
        'core.tgz.sha256',
        'ui.tgz',
        'ui.tgz.intoto.jsonl',
        'ui.tgz.intoto.jsonl.sha256',
        'ui.tgz.sha256',
      ]);
      const buildDir = join(workspace, 'builds', handle.workflowId);
      assert.deepEqual(existsSync(buildDir) ? readdirSync(buildDir) : [], [], 'every build directory torn down');
      const history = await handle.fetchHistory();
      const children = history.events?.filter((event) => event.startChildWorkflowExecutionInitiatedEventAttributes) ?? [];
      assert.equal(children.length, 2, 'one child per artifact');
    } finally {
      release.kill('SIGTERM');
      builds.kill('SIGTERM');
    }
  });
});
