import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { runCliAsync } from '../support/cli';
import { fakeActivities } from '../support/fakeActivities';
import { tempDir, testClient, testServer, uniqueTaskQueue, until, withWorkers } from '../support/temporal';
import { runProcess } from '../../src/activities/process';
import { ensureTools } from '../../src/worker/tools';
import { progressLine } from '../../src/client/progress';
import { releaseStateQuery } from '../../src/workflows/api';

describe('progress of long work: relflow status, watch and logs from heartbeats', function () {
  this.timeout(180_000);

  it('one line per running activity: an upload as a bar, CI as the checks pending, a build as its last log line', function () {
    const at = (details: Record<string, unknown>, activity = 'storeFile', workflowId = 'cloudify-3.4') =>
      progressLine({ workflowId, activity, attempt: 1, details });
    assert.equal(
      at({ key: 'org/cloudify/3.4.0/ga-RELEASE/cloudify-ui.tgz', loaded: 7 * 1048576, total: 10 * 1048576 }),
      'storeFile cloudify-ui.tgz [##############------] 70% (7.0 of 10.0 MiB)',
    );
    assert.equal(
      at({ pending: ['cloudify-manager', 'cloudify-ui'] }, 'waitForCi'),
      'waitForCi: waiting for CI on cloudify-manager, cloudify-ui',
    );
    assert.equal(
      at({ log: ['npm ci', 'webpack: 45% building'] }, 'buildArtifact', 'cloudify-3.4/artifact/cloudify-ui'),
      'cloudify-ui: buildArtifact: webpack: 45% building',
    );
    assert.equal(
      progressLine({ workflowId: 'x', activity: 'checkoutRepository', attempt: 3, details: { git: 'fetch' } }),
      'checkoutRepository (attempt 3): git fetch',
    );
    // Each look at a machine is an attempt of one activity: a build that runs normally is not "attempt 4".
    assert.equal(
      progressLine({ workflowId: 'r/artifact/agent', activity: 'checkMachineBuild', attempt: 4, details: { machine: 'i-0abc' } }),
      'agent: checkMachineBuild (look 4): on i-0abc, waiting for its result',
    );
  });

  it('a running build: status shows its last log line, logs prints the tail, then says how it ended', async function () {
    const root = tempDir('progress');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const taskQueue = uniqueTaskQueue('progress');
    const config = writeManifest(root, {
      product: 'progress',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: core }],
      artifacts: [{ name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'] }],
      storage: { bucket: 'unused' },
    });
    const env = { TEMPORAL_ADDRESS: testServer().address, RELFLOW_TASK_QUEUE: taskQueue, RELFLOW_BUILD_TASK_QUEUE: `${taskQueue}-builds` };
    const { activities } = fakeActivities({
      // The builders' own runner, heartbeating its output's tail, on a command that logs slowly until told to stop.
      buildArtifact: async () => {
        const marker = `${root}/stop`;
        const result = await runProcess(
          ['sh', '-c', `i=0; while [ ! -e ${marker} ]; do i=$((i+1)); echo "compiling module $i"; sleep 0.3; done; echo done`],
          {
            cwd: root,
            env: { PATH: process.env.PATH },
            timeoutMs: 120_000,
            logTail: true,
          },
        );
        assert.equal(result.code, 0);
        return [{ name: 'ui', file: 'ui.tgz', size: 1, sha256: 'ab'.repeat(32), urls: ['http://storage/ui.tgz'] }];
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20261124', '--json'], env);
      assert.equal(started.status, 0, started.stderr);
      const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
      const status = await until('a status with the build running', async () => {
        const run = await runCliAsync(['status', id], env);
        return /ui: buildArtifact: compiling module [3-9]/.test(run.stdout) ? run.stdout : undefined;
      });
      assert.match(status, /\n\nRunning now:\n {2}ui: buildArtifact: compiling module \d+\n/);
      const json = JSON.parse((await runCliAsync(['status', id, '--json'], env)).stdout) as {
        running: { activity: string; details: { log: string[] } }[];
      };
      assert.ok(json.running.some((activity) => activity.activity === 'buildArtifact' && activity.details.log.length > 0));
      const logs = await runCliAsync(['logs', id, 'ui'], env);
      assert.equal(logs.status, 0, logs.stderr);
      const lines = logs.stdout.trim().split('\n');
      assert.ok(
        lines.length >= 3 && lines.every((line, index) => line === `compiling module ${Number(lines[0].split(' ').at(-1)) + index}`),
        logs.stdout,
      );
      const unknown = await runCliAsync(['logs', id, 'nope'], env);
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /release .* has no artifact 'nope' \(its artifacts: ui\)/);
      const follow = runCliAsync(['logs', id, 'ui', '--follow', '--interval', '200'], env);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      writeFileSync(`${root}/stop`, '');
      const followed = await follow;
      assert.equal(followed.status, 0, followed.stderr);
      assert.match(followed.stdout, /^ui succeeded: 1 file stored$/m, followed.stdout);
      const numbers = followed.stdout
        .split('\n')
        .filter((line) => line.startsWith('compiling module '))
        .map((line) => Number(line.split(' ')[2]));
      assert.ok(
        numbers.every((value, index) => index === 0 || value === numbers[index - 1] + 1),
        `no line twice or skipped: ${numbers.join(',')}`,
      );
      const state = await testClient().workflow.getHandle(id).query(releaseStateQuery);
      assert.ok(['running', 'succeeded'].includes(state.status));
      await testClient().workflow.getHandle(id).result();
    });
  });

  it('a paused activity (temporal activity pause, as for an outage of an outside service) shows as PAUSED in status, with who, why and how to unpause', async function () {
    const root = tempDir('paused');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const taskQueue = uniqueTaskQueue('paused');
    const config = writeManifest(root, {
      product: 'paused',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: core }],
      artifacts: [{ name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'] }],
      storage: { bucket: 'unused' },
    });
    const env = { TEMPORAL_ADDRESS: testServer().address, RELFLOW_TASK_QUEUE: taskQueue, RELFLOW_BUILD_TASK_QUEUE: `${taskQueue}-builds` };
    const marker = `${root}/stop`;
    const { activities } = fakeActivities({
      buildArtifact: async () => {
        await runProcess(['sh', '-c', `while [ ! -e ${marker} ]; do sleep 0.2; done`], {
          cwd: root,
          env: { PATH: process.env.PATH },
          timeoutMs: 120_000,
          logTail: true,
        });
        return [{ name: 'ui', file: 'ui.tgz', size: 1, sha256: 'ab'.repeat(32), urls: ['http://storage/ui.tgz'] }];
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20261124', '--json'], env);
      assert.equal(started.status, 0, started.stderr);
      const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
      const build = `${id}/artifact/ui`;
      const activityId = await until('the build running', async () => {
        const pending =
          (
            await testClient()
              .workflow.getHandle(build)
              .describe()
              .catch(() => undefined)
          )?.raw.pendingActivities ?? [];
        return pending.find((activity) => activity.activityType?.name === 'buildArtifact')?.activityId ?? undefined;
      });
      const cli = ensureTools().temporalCli;
      const address = ['--address', testServer().address];
      execFileSync(cli, [
        'activity',
        'pause',
        ...address,
        '--workflow-id',
        build,
        '--activity-id',
        activityId,
        '--identity',
        'alice',
        '--reason',
        'the EC2 API is down',
      ]);
      const status = await until('a status with the pause', async () => {
        const run = await runCliAsync(['status', id], env);
        return run.stdout.includes('PAUSED') ? run.stdout : undefined;
      });
      assert.ok(
        status.includes(
          `  ui: buildArtifact PAUSED by alice: the EC2 API is down; it runs again after temporal activity unpause --workflow-id ${build} --activity-id ${activityId}\n`,
        ),
        status,
      );
      execFileSync(cli, ['activity', 'unpause', ...address, '--workflow-id', build, '--activity-id', activityId]);
      await until('no pause in status', async () => !(await runCliAsync(['status', id], env)).stdout.includes('PAUSED') || undefined);
      writeFileSync(marker, '');
      await until('the release done', async () => {
        const state = await testClient().workflow.getHandle(id).query(releaseStateQuery);
        return state.status === 'succeeded' || undefined;
      });
    });
  });
});
