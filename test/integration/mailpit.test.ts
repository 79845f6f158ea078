import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
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
        // A relay on loopback that takes a login without TLS: said so, as the manifest must.
        smtp: {
          host: '127.0.0.1',
          port: mailpit.smtpPort,
          secure: false,
          userEnv: 'TEST_SMTP_USER',
          passwordEnv: 'TEST_SMTP_PASSWORD',
          requireTLS: false,
        },
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

describe('an SMTP password goes only over TLS (Mailpit with and without STARTTLS)', function () {
  this.timeout(60_000);
  const servers: Mailpit[] = [];
  const env = { ...process.env, TEST_SMTP_USER: 'relflow', TEST_SMTP_PASSWORD: 'smtp-secret-for-mailpit' };
  const notificationsFor = (server: Mailpit) => ({
    email: {
      from: 'relflow@example.com',
      to: ['dev@example.com'],
      smtp: { host: '127.0.0.1', port: server.smtpPort, secure: false, userEnv: 'TEST_SMTP_USER', passwordEnv: 'TEST_SMTP_PASSWORD' },
    },
    webhooks: [],
  });
  const state = (): ReleaseState => ({ ...finishedNightly(), releaseId: 'mailpit-tls-nightly-20261124' });

  after(function () {
    for (const server of servers) server.stop();
  });

  it('a server that offers no STARTTLS gets no login: refused at once, naming the server and the way out, nothing sent', async function () {
    const plain = await startMailpit();
    servers.push(plain);
    const { announceRelease } = createNotifyActivities(env);
    await assert.rejects(announceRelease({ notifications: notificationsFor(plain), state: state() }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, String(error));
      assert.equal(error.nonRetryable, true);
      assert.equal(
        error.message,
        `notifications.email.smtp: smtp://127.0.0.1:${plain.smtpPort} offers no STARTTLS, and the password goes only over TLS: ` +
          "use the server's TLS port with secure: true, or set requireTLS: false to send it in clear (a relay on loopback)",
      );
      assert.ok(!error.message.includes('smtp-secret-for-mailpit'));
      return true;
    });
    assert.deepEqual(await plain.messages(), []);
  });

  it('a submission port that requires STARTTLS gets the login inside TLS and the mail arrives', async function () {
    const secured = await startMailpit({ tls: true });
    servers.push(secured);
    // The test's certificate is self-signed; a deploy trusts its server's.
    const { announceRelease } = createNotifyActivities({ ...env, RELFLOW_SMTP_INSECURE_TLS: '1' });
    await announceRelease({ notifications: notificationsFor(secured), state: state() });
    assert.equal((await secured.messages()).length, 1);
  });
});
