import { strict as assert } from 'node:assert';
import { createNotifyActivities } from '../../src/activities/notify';
import type { ReleaseState } from '../../src/release/model';
import { finishedNightly } from '../support/fakeActivities';
import { Mailpit, startMailpit } from '../support/mailpit';

describe('the announcement through a real mail server (Mailpit, read through its REST API)', function () {
  this.timeout(60_000);
  let mailpit: Mailpit;

  before(async function () {
    mailpit = await startMailpit();
  });

  after(function () {
    mailpit?.stop();
  });

  it('arrives once with its packages and release notes in the text and HTML parts, and no credential in it', async function () {
    const state: ReleaseState = {
      ...finishedNightly(),
      releaseId: 'mailpit-nightly-20261124',
      build: 7,
      // What a build stored, as the artifacts stage records it; a release's own files (artifacts.json, SHA256SUMS) are no packages.
      artifacts: [
        {
          name: 'ui',
          builder: 'local',
          status: 'succeeded',
          files: [
            {
              name: 'ui',
              file: 'ui-3.5.0-b7.tgz',
              size: 10,
              sha256: 'ab'.repeat(32),
              urls: ['http://storage.example/nightly/ui-3.5.0-b7.tgz'],
            },
          ],
        },
      ],
      stored: [
        { name: 'SHA256SUMS', file: 'SHA256SUMS', size: 80, sha256: 'cd'.repeat(32), urls: ['http://storage.example/nightly/SHA256SUMS'] },
      ],
      notes: [
        {
          repository: 'cloudify-rest-client',
          previous: 'nightly-20261123',
          changes: [{ sha: 'c'.repeat(40), subject: 'Fix the parser', pullRequest: 12 }],
          more: 0,
          authors: ['Alice'],
          pullUrl: 'https://github.com/cloudify-cosmo/cloudify-rest-client/pull/',
        },
      ],
    };
    const env = { ...process.env, TEST_SMTP_USER: 'relflow', TEST_SMTP_PASSWORD: 'smtp-secret-for-mailpit' };
    const notifications = {
      email: {
        from: 'relflow@example.com',
        to: ['dev@example.com'],
        smtp: { host: '127.0.0.1', port: mailpit.smtpPort, secure: false, userEnv: 'TEST_SMTP_USER', passwordEnv: 'TEST_SMTP_PASSWORD' },
      },
      webhooks: [],
    };
    const { announceRelease } = createNotifyActivities(env);
    await announceRelease({ notifications, state });
    const messages = await mailpit.messages();
    assert.equal(messages.length, 1);
    assert.deepEqual(
      messages.map((message) => [message.From.Address, message.To.map((to) => to.Address)]),
      [['relflow@example.com', ['dev@example.com']]],
    );
    const message = await mailpit.message(messages[0].ID);
    assert.match(message.Subject, /nightly release .*: 1 package$/);
    assert.match(message.Text.replace(/\r\n/g, '\n'), /^Outcome: succeeded$/m);
    // As it arrived over SMTP: CRLF line ends.
    const text = message.Text.replace(/\r\n/g, '\n');
    assert.match(text, /ui {2}ui-3\.5\.0-b7\.tgz {2}10 bytes {2}sha256 (ab){32}/);
    assert.match(text, /^Release notes:\n {2}cloudify-rest-client \(since nightly-20261123\):\n {4}- Fix the parser \(#12\)$/m);
    assert.ok(message.HTML.includes('<a href="http://storage.example/nightly/ui-3.5.0-b7.tgz">ui-3.5.0-b7.tgz</a>'), message.HTML);
    assert.ok(
      message.HTML.includes('<li>Fix the parser (<a href="https://github.com/cloudify-cosmo/cloudify-rest-client/pull/12">#12</a>)</li>'),
      message.HTML,
    );
    assert.ok(!JSON.stringify(message).includes('smtp-secret-for-mailpit'), 'the SMTP password is not in the message');
  });
});
