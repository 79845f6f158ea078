import { strict as assert } from 'node:assert';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';
import { errorMessage } from '../../src/workflows/tracker';

describe('entry points: an activity a client starts by itself (a Standalone Activity) is refused', function () {
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
});
