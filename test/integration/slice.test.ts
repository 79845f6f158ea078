import { strict as assert } from 'node:assert';
import { releaseState, startRelease } from '../../src/client/releases';
import { formatRelease } from '../../src/client/format';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { createTestWorker, tempDir, testClient, uniqueTaskQueue } from '../support/temporal';

describe('walking skeleton: a nightly through checkout, version and tag', function () {
  it('clones each repository on a real server and reports its SHA through the query', async function () {
    const root = tempDir('slice');
    const rest = createRemote(root, { name: 'rest-client', files: { 'setup.py': "setup(version='3.4')\n" }, history: 3 });
    const plugin = createRemote(root, { name: 'script-plugin', files: { 'plugin.yaml': 'plugins: {}\n' }, branch: 'main' });
    const config = writeManifest(root, {
      product: 'slice',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'rest-client', url: rest },
        { name: 'script-plugin', url: plugin, branch: 'main', stream: 'plugins' },
      ],
    });
    const taskQueue = uniqueTaskQueue();
    const worker = await createTestWorker({ taskQueue });
    const client = testClient();
    const { plan, state } = await worker.runUntil(async () => {
      const { plan: started } = await startRelease(client, { kind: 'nightly', configFile: config, date: '20261124', taskQueue });
      await client.workflow.getHandle(started.releaseId).result();
      return { plan: started, state: await releaseState(client, started.releaseId) };
    });
    assert.equal(plan.releaseId, 'slice-nightly-20261124');
    assert.equal(state.status, 'succeeded');
    assert.deepEqual(
      state.repositories.map((repository) => [repository.name, repository.status, repository.baseSha, repository.tagSha]),
      [
        ['rest-client', 'succeeded', remoteSha(rest, 'master~1'), remoteSha(rest, 'master')],
        ['script-plugin', 'succeeded', remoteSha(plugin, 'main'), remoteSha(plugin, 'main')],
      ],
    );
    assert.equal(git(rest, 'show', 'nightly-20261124:setup.py'), "setup(version='3.5.dev20261124')");
    assert.deepEqual(state.repositories[0].changedFiles, ['setup.py']);
    assert.deepEqual(state.repositories[1].changedFiles, [], 'nothing to version: no commit');
    const text = formatRelease(state);
    assert.match(text, /rest-client\s+succeeded\s+[0-9a-f]{12}/);
    assert.match(text, /status\s+succeeded/);
  });
});
