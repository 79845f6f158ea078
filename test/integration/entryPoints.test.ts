import { strict as assert } from 'node:assert';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';
import { errorMessage } from '../../src/workflows/tracker';
import { fakeActivities } from '../support/fakeActivities';

describe('entry points: a Standalone Activity and a hostile reap sweep, started by any client, are refused', function () {
  this.timeout(120_000);

  it('tagRepository started directly on the release queue pushes nothing; the workers run activities for their own workflows only', async function () {
    const root = tempDir('standalone');
    const remote = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const head = remoteSha(remote, 'master');
    const taskQueue = uniqueTaskQueue('standalone');
    await withWorkers({ taskQueue }, async () => {
      const attack = testClient().activity.execute('tagRepository', {
        id: `standalone-${process.pid}-${Date.now()}`,
        taskQueue,
        startToCloseTimeout: '1 minute',
        retry: { maximumAttempts: 1 },
        args: [
          {
            releaseId: 'nobody',
            repository: {
              name: 'core',
              url: remote,
              mainBranch: 'master',
              baseBranch: 'master',
              buildBranch: 'master',
              tag: 'evil',
              stream: 'core',
              version: 'evil',
            },
            tag: 'evil',
            sha: head,
            message: 'planted',
            author: { name: 'Mallory', email: 'mallory@example.com' },
          },
        ],
      });
      await assert.rejects(attack, (error: unknown) => {
        assert.match(errorMessage(error), /tagRepository runs only for relflow's own workflows/);
        return true;
      });
    });
    assert.throws(() => git(remote, 'rev-parse', '--verify', '-q', 'refs/tags/evil'), 'no tag was pushed');
  });

  it('a reap sweep started by any client with a malformed input is refused before it looks at a machine', async function () {
    const taskQueue = uniqueTaskQueue('reap-input');
    const { activities, calls } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const cases: [unknown, RegExp][] = [
        [{ ec2: { region: 'us-east-1' }, installation: 'default/cloudify', grace: 'soon' }, /^reap refused: grace: a duration such as 15m/],
        [{ ec2: { region: 'us-east-1' }, installation: 'default/cloudify', dryRun: 'no' }, /^reap refused: dryRun: true or false$/],
        [{ ec2: { region: 'us-east-1' }, installation: '../x y' }, /^reap refused: installation: /],
        [null, /^reap refused: expected \{ec2, installation, grace\?, dryRun\?\}/],
      ];
      for (const [input, expected] of cases) {
        const run = testClient().workflow.execute('reapWorkflow', {
          taskQueue,
          workflowId: `reap-${process.pid}-${Date.now()}-${Math.random()}`,
          args: [input],
        });
        await assert.rejects(run, (error: unknown) => {
          assert.match(errorMessage(error), expected);
          return true;
        });
      }
      assert.equal(calls.reapBuildMachines, undefined, 'no sweep ran');
    });
  });
});
