import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGitActivities } from '../../src/activities/git';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { releaseStateQuery } from '../../src/workflows/api';
import { ReleaseState } from '../../src/release/model';
import { runCliAsync } from '../support/cli';
import { fakeActivities } from '../support/fakeActivities';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { tempDir, testClient, testServer, uniqueTaskQueue, withWorkers } from '../support/temporal';

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a release started again after it was aborted (real git, the real CLI)', function () {
  this.timeout(180_000);

  it('continues the aborted run: one version commit, the same tag, and a succeeded release is reported, not started', async function () {
    const root = tempDir('restart');
    const remote = createRemote(root, {
      name: 'core',
      files: { 'setup.py': "setup(name='core', version='3.3')\n", 'types.yaml': 'x: 1\n' },
    });
    const taskQueue = uniqueTaskQueue('restart');
    const config = writeManifest(root, {
      product: 'again',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: remote, typesYaml: 'types.yaml' }],
      versionRules: [{ preset: 'setup.py', required: true }],
      storage: { bucket: 'unused' },
    });
    const env = {
      TEMPORAL_ADDRESS: testServer().address,
      RELFLOW_TASK_QUEUE: taskQueue,
      RELFLOW_BUILD_TASK_QUEUE: `${taskQueue}-builds`,
      USER: 'tester',
    };
    const realGit = createGitActivities(new GitWorkspace(tempDir('restart-workspace')));
    let storageDown = true;
    const { activities, calls } = fakeActivities({
      checkoutRepository: realGit.checkoutRepository as never,
      versionRepository: realGit.versionRepository as never,
      tagRepository: realGit.tagRepository as never,
      uploadSpecs: async () => {
        if (storageDown) throw ApplicationFailure.nonRetryable('storage unreachable');
        return [];
      },
    });
    const client = testClient();
    const state = (id: string) => client.workflow.getHandle(id).query(releaseStateQuery);

    await withWorkers({ taskQueue, activities }, async () => {
      const first = await runCliAsync(['start', 'ga', '--version', '3.4', '-c', config], env);
      assert.equal(first.status, 0, first.stderr);
      await until('blocked on specs', async () => ((await state('again-3.4')).status === 'blocked' ? true : undefined));
      const firstRun = await state('again-3.4');
      const versionHead = remoteSha(remote, '3.4-build');
      assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), versionHead);
      assert.equal((await runCliAsync(['abort', 'again-3.4', '--by', 'carol'], env)).status, 0);
      await until(
        'aborted',
        async () => ((await client.workflow.getHandle('again-3.4').result()) as ReleaseState).status === 'aborted' || undefined,
      );

      // Work goes on on master meanwhile; the new run must not fork a second build branch history from it.
      const work = join(root, 'work', 'core');
      git(work, 'commit', '--allow-empty', '-q', '-m', 'later work on master');
      git(work, 'push', '-q', remote, 'master');

      storageDown = false;
      const again = await runCliAsync(['start', 'ga', '--version', '3.4', '-c', config], env);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /started ga release 3\.4: again-3\.4 \(run again after a run that ended aborted at .*not redone\)/);
      const done = (await client.workflow.getHandle('again-3.4').result()) as ReleaseState;
      assert.equal(done.status, 'succeeded', JSON.stringify(done.blocked));
      const core = done.repositories[0];
      assert.equal(core.baseSha, firstRun.repositories[0].baseSha, 'the base of the aborted run is kept');
      assert.equal(core.headSha, versionHead);
      assert.equal(remoteSha(remote, '3.4-build'), versionHead, 'no second version commit');
      assert.equal(
        git(remote, 'rev-list', '--count', `${firstRun.repositories[0].baseSha}..3.4-build`),
        '1',
        'one version commit on the build branch',
      );
      assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), versionHead, 'the tag did not move');
      const versionResults = (calls.versionRepository ?? []).length;
      assert.equal(versionResults, 2, 'the version activity ran once per run');

      const third = await runCliAsync(['start', 'ga', '--version', '3.4', '-c', config], env);
      assert.equal(third.status, 0, third.stderr);
      assert.match(third.stdout, /release 3\.4 \(again-3\.4\) already succeeded; nothing started/);
      const runs = await until('both runs listed', async () => {
        const listed = await runCliAsync(['list', '--product', 'again'], env);
        const lines = listed.stdout.trim().split('\n');
        return lines.length === 2 ? lines : undefined;
      });
      assert.match(runs.join('\n'), /aborted/);
      assert.match(runs.join('\n'), /succeeded/);
      const status = await runCliAsync(['status', 'again-3.4'], env);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /RUN\s+STATE\s+STARTED\s+ENDED\n1 \S+\s+aborted .*\n2 \S+\s+succeeded /);
    });
  });
});
