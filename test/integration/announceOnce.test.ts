import { strict as assert } from 'node:assert';
import { validateManifest } from '../../src/config/loadManifest';
import { announcementMessageId } from '../../src/activities/notify';
import { releaseWorkflow } from '../../src/workflows';
import { startInbox, startLocalApi } from '../support/fakeSaas';
import { createRemote } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

describe('the announcement goes out once when its activity runs again', function () {
  this.timeout(120_000);

  it('a webhook that fails the first attempt is called again; the email, already accepted, is not sent again', async function () {
    const root = tempDir('announce');
    const remote = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const inbox = await startInbox();
    let calls = 0;
    const hooks = await startLocalApi(() => {
      calls += 1;
      return { status: calls === 1 ? 500 : 200, json: {} };
    });
    try {
      const manifest = validateManifest(
        {
          product: 'announce',
          versions: { core: '3.5', plugins: '1.5' },
          repositories: [{ name: 'core', url: remote }],
          notifications: {
            email: { from: 'relflow@example.com', to: ['dev@example.com'], smtp: { host: '127.0.0.1', port: inbox.port } },
            webhooks: [{ name: 'chat', urlEnv: 'ANNOUNCE_HOOK' }],
          },
        },
        'announce manifest',
      );
      const taskQueue = uniqueTaskQueue('announce');
      const workflowId = `announce-${Date.now()}`;
      const state = await withWorkers({ taskQueue, env: { ...process.env, ANNOUNCE_HOOK: `${hooks.url}/hook` } }, async () =>
        testClient().workflow.execute(releaseWorkflow, {
          taskQueue,
          workflowId,
          args: [{ manifest, kind: 'nightly', date: '20261128', buildTaskQueue: `${taskQueue}-builds` }],
        }),
      );
      assert.equal(state.status, 'succeeded', JSON.stringify(state.blocked));
      assert.equal(hooks.requests.length, 2, 'the webhook: a failed call, then one that succeeded');
      const announcements = inbox.mails.filter((mail) => /nightly/.test(mail.subject ?? ''));
      assert.equal(announcements.length, 1, inbox.mails.map((mail) => mail.subject).join(', '));
      assert.equal(announcements[0].messageId, announcementMessageId(state.releaseId));
    } finally {
      await Promise.all([inbox.close(), hooks.close()]);
    }
  });
});
