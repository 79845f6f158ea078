import { strict as assert } from 'node:assert';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApplicationFailure } from '@temporalio/common';
import { storeBuildOutputs } from '../../src/activities/builders/outputs';
import type { BuildRequest } from '../../src/activities/builders/types';
import { ManifestError, parseManifest } from '../../src/config/loadManifest';
import { runCli } from '../support/cli';
import { createRemote, git } from '../support/gitRepos';
import { tempDir, testServer } from '../support/temporal';
import { createNotifyActivities } from '../../src/activities/notify';

/** A valid manifest, with one field replaced by the case's value. */
function manifestWith(change: (manifest: Record<string, unknown>) => void): string {
  const manifest: Record<string, unknown> = {
    product: 'hostile',
    versions: { core: '3.4', plugins: '1.4' },
    repositories: [{ name: 'core', url: '/srv/core.git' }],
    ci: { provider: 'github', owner: 'org', tokenEnv: 'GITHUB_TOKEN' },
    gates: { pypi: {}, docs: {} },
  };
  change(manifest);
  return stringify(manifest);
}

function refusal(text: string): string {
  try {
    parseManifest(text, 'relflow.yaml');
  } catch (error) {
    assert.ok(error instanceof ManifestError, String(error));
    return error.message;
  }
  return assert.fail('expected the manifest to be refused');
}

const SECRET = 'ghp_R3alLookingT0kenValue0123456789abcd';

describe('hostile and malformed values are refused by validate, naming the field', function () {
  const cases: [string, (manifest: Record<string, unknown>) => void, RegExp][] = [
    [
      'a reminder every 0s',
      (m) => ((m.gates as Record<string, unknown>).pypi = { reminderEvery: '0s' }),
      /gates\.pypi\.reminderEvery: at least 1s/,
    ],
    ['CI polled every 0s', (m) => (m.ci = { provider: 'github', owner: 'org', pollEvery: '0s' }), /ci\.pollEvery: at least 1s/],
    [
      'a gate timeout of 25 days',
      (m) => ((m.gates as Record<string, unknown>).docs = { timeout: '25d' }),
      /gates\.docs\.timeout: at most 21d/,
    ],
    [
      'a token pasted into tokenEnv',
      (m) => (m.ci = { provider: 'github', owner: 'org', tokenEnv: SECRET }),
      /ci\.tokenEnv: this looks like a secret/,
    ],
    [
      'an AWS key pasted into accessKeyIdEnv',
      (m) => (m.storage = { bucket: 'b', accessKeyIdEnv: 'AKIAIOSFODNN7EXAMPLE' }),
      /storage\.accessKeyIdEnv: this looks like a secret/,
    ],
    [
      'an output outside the build',
      (m) => (m.artifacts = [{ name: 'ui', repository: 'core', command: 'make', outputs: ['../../etc/passwd'] }]),
      /artifacts\[0\]\.outputs\[0\]: a relative path inside the repository/,
    ],
    [
      'an absolute output',
      (m) => (m.artifacts = [{ name: 'ui', repository: 'core', command: 'make', outputs: ['/proc/self/environ'] }]),
      /artifacts\[0\]\.outputs\[0\]: a relative path/,
    ],
    [
      'an output that reads as an option',
      (m) => (m.artifacts = [{ name: 'ui', repository: 'core', command: 'make', outputs: ['--checkpoint-action=exec=sh'] }]),
      /artifacts\[0\]\.outputs\[0\]: a relative path/,
    ],
    [
      'a vagrant directory outside the repository',
      (m) =>
        (m.artifacts = [
          { name: 'box', repository: 'core', builder: 'vagrant', command: 'make', outputs: ['x'], vagrant: { directory: '../..' } },
        ]),
      /artifacts\[0\]\.vagrant\.directory: a relative path/,
    ],
    [
      'a types.yaml outside the repository',
      (m) => (m.repositories = [{ name: 'core', url: '/srv/core.git', typesYaml: '../../home/.netrc' }]),
      /repositories\[0\]\.typesYaml: a relative path/,
    ],
    ['a bucket that is a path', (m) => (m.storage = { bucket: '../../x' }), /storage\.bucket: an S3 bucket name/],
    [
      'a file:// endpoint',
      (m) => (m.storage = { bucket: 'releases', endpoint: 'file:///etc/passwd' }),
      /storage\.endpoint: an http\(s\) URL/,
    ],
    [
      'a NUL in the author name',
      (m) => (m.git = { author: { name: 'bot\u0000evil', email: 'bot@example.com' } }),
      /git\.author\.name: a name without control characters/,
    ],
    [
      'a PyPI token pasted into passwordEnv',
      (m) => (m.pypi = { repositoryUrl: 'https://upload.pypi.org/legacy/', passwordEnv: 'pypi_AgEIcHlwaS5vcmc' }),
      /pypi\.passwordEnv: this looks like a secret/,
    ],
  ];
  for (const [what, change, expected] of cases) {
    it(what, function () {
      const message = refusal(manifestWith(change));
      assert.match(message, expected);
      assert.doesNotMatch(message, /ghp_R3al|AKIAIOSFODNN7|pypi_AgEI/, 'the secret is not echoed');
    });
  }

  it('a YAML alias bomb is one line, not a stack trace', function () {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1)
      bomb.push(
        `${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(',')}]`,
      );
    const message = refusal(bomb.join('\n'));
    assert.match(message, /^relflow\.yaml: invalid YAML: /);
    assert.equal(message.split('\n').length, 1);
  });

  it('a manifest that is a device or too large is refused before reading it whole', function () {
    const zero = runCli(['validate', '-c', '/dev/zero']);
    assert.equal(zero.status, 2);
    assert.equal(zero.stderr.trim(), 'relflow: /dev/zero: not a regular file; expected a YAML manifest');
    const big = join(tempDir('big-manifest'), 'relflow.yaml');
    writeFileSync(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const large = runCli(['validate', '-c', big]);
    assert.equal(large.status, 2);
    assert.match(large.stderr.trim(), /^relflow: \S+relflow\.yaml: 2097155 bytes; a manifest is at most 1048576 bytes$/);
  });

  it('a nightly --date that is not a day is refused before anything is pushed', function () {
    const root = tempDir('bad-date');
    const remote = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const config = join(root, 'relflow.yaml');
    writeFileSync(
      config,
      manifestWith((m) => (m.repositories = [{ name: 'core', url: remote }])),
    );
    const before = git(remote, 'for-each-ref');
    const result = runCli(['start', 'nightly', '-c', config, '--date', '20261340'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr.trim(),
      "relflow: option '--date <yyyymmdd>' argument '20261340' is invalid. expected a date as YYYYMMDD, e.g. 20261124; see --help",
    );
    assert.equal(git(remote, 'for-each-ref'), before, 'nothing changed on the remote');
  });

  it('two outputs that would be stored under one name are refused, not stored once and listed twice', async function () {
    const request = {
      artifact: { name: 'agent', outputs: ['a/*.tgz', 'b/*.tgz'] },
      storage: { bucket: 'unused' },
      keyPrefix: 'org/x/',
    } as unknown as BuildRequest;
    await assert.rejects(storeBuildOutputs(request, ['/w/a/agent.tgz', '/w/b/agent.tgz'], {}), (error: ApplicationFailure) => {
      assert.equal(error.type, 'InvalidArtifact');
      assert.match(
        error.message,
        /agent: outputs \/w\/a\/agent\.tgz and \/w\/b\/agent\.tgz would be stored under the same name agent\.tgz/,
      );
      return true;
    });
  });

  it('credentials in a repository URL are refused without being echoed; a name too long for a workflow ID is refused', function () {
    const url = refusal(
      manifestWith((m) => (m.repositories = [{ name: 'core', url: 'https://bot:s3cretPassw0rd@github.com/org/core.git' }])),
    );
    assert.match(url, /repositories\[0\]\.url: credentials in the URL: remove them and name the token's variable in git\.tokenEnv/);
    assert.doesNotMatch(url, /s3cretPassw0rd/);
    assert.match(refusal(manifestWith((m) => (m.product = 'p'.repeat(150)))), /product: at most 100 characters/);
  });

  it('a malformed webhook URL (the secret) is named by its field, never written into the error', async function () {
    const notify = createNotifyActivities({ CHAT_URL: 'not a url, token xoxb-secret-123', RELFLOW_SECRETS: TEST_SECRETS_FILE });
    await assert.rejects(
      notify.sendAlert({
        notifications: { webhooks: [{ name: 'chat', urlEnv: 'CHAT_URL' }] },
        message: { subject: 's', text: 't', summary: 's' },
      }),
      (error: Error) => {
        assert.equal(error.message, 'notifications.webhooks[chat].urlEnv: the value of CHAT_URL is not an http(s) URL');
        return true;
      },
    );
  });

  it('CLI arguments and server refusals are one line: an empty release ID, an unknown release to cancel, an unknown namespace', function () {
    const env = { TEMPORAL_ADDRESS: testServer().address };
    const empty = runCli(['status', ''], env);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /value '' is invalid for argument 'release-id'\. expected a release ID such as cloudify-3\.4/);
    const cancel = runCli(['cancel', 'nobody-9.9'], env);
    assert.equal(cancel.status, 2);
    assert.equal(cancel.stderr.trim(), "relflow: no running release with ID 'nobody-9.9' (see `relflow list`)");
    const cron = runCli(['schedule', 'create', 'nightly', '--cron', 'every night', '-c', 'relflow.example.yaml'], env);
    assert.equal(cron.status, 2);
    assert.match(cron.stderr, /argument 'every night' is invalid\. expected five cron fields/);
    const zone = runCli(
      ['schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--timezone', 'Mars/Base', '-c', 'relflow.example.yaml'],
      env,
    );
    assert.equal(zone.status, 2);
    assert.match(zone.stderr, /argument 'Mars\/Base' is invalid\. expected an IANA time zone/);
    const apiKey = runCli(['list'], { ...env, TEMPORAL_API_KEY: 'key-for-a-cloud-namespace' });
    assert.equal(apiKey.status, 2);
    assert.match(apiKey.stderr, /TEMPORAL_API_KEY is set, which turns TLS on: a plaintext server \(relflow dev\) refuses that/);
    assert.doesNotMatch(apiKey.stderr, /key-for-a-cloud-namespace/);
    const namespace = runCli(['list'], { ...env, TEMPORAL_NAMESPACE: 'no-such-namespace' });
    assert.equal(namespace.status, 1);
    assert.equal(namespace.stderr.trim().split('\n').length, 1, namespace.stderr);
    assert.match(namespace.stderr, /^relflow: the Temporal server refused: .*no-such-namespace/);
  });
});
