import { strict as assert } from 'node:assert';
import { createServer, Server, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createCiActivities } from '../../src/activities/ci';
import { createGitActivities } from '../../src/activities/git';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { createNotifyActivities } from '../../src/activities/notify';
import { createPreflightActivities } from '../../src/activities/preflight';
import { createPypiActivities } from '../../src/activities/pypi';
import { createDocsActivities } from '../../src/activities/readthedocs';
import { destinationAllowed, readSecret, workerSecrets } from '../../src/activities/secrets';
import { ec2Client } from '../../src/activities/builders/ec2';
import { s3Client } from '../../src/activities/storage';
import { parseHostPrefix, parseSecretsFile } from '../../src/config/secretsFile';
import { buildReleasePlan } from '../../src/release/plan';
import { releaseWorkflow } from '../../src/workflows';
import { releaseStateQuery } from '../../src/workflows/api';
import { finishedNightly } from '../support/fakeActivities';
import { createRemote } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { createTestWorker, tempDir, testClient, uniqueTaskQueue } from '../support/temporal';
import type { ManifestInput } from '../../src/config/manifest';
import { type ReleaseState, TRUST_REFUSED } from '../../src/release/model';

/**
 * A host that must never hear from relflow: it listens on 127.0.0.2 (loopback,
 * but not a host the suite's secrets file allows) and records every byte.
 */
interface Thief {
  host: string;
  port: number;
  url: string;
  connections: number;
  received(): string;
  close(): Promise<void>;
}

async function startThief(): Promise<Thief> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => sockets.delete(socket));
    // Answer like a web server, so an HTTP client that got this far would send everything it has.
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    host: '127.0.0.2',
    port,
    url: `http://127.0.0.2:${port}`,
    get connections() {
      return connections;
    },
    received: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The planted secret: a value the worker holds for the loopback services (127.0.0.1) only. */
const PLANTED = 'planted-secret-value-7f3a9c';

function refusedWith(name: string, host: string) {
  return (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    assert.ok(message.includes(`secret ${name}`), `names the secret: ${message}`);
    assert.ok(message.includes(host), `names the host: ${message}`);
    assert.ok(!message.includes(PLANTED), 'never the value');
    return true;
  };
}

describe('secrets are the worker’s, bound to destinations (RELFLOW_SECRETS)', function () {
  this.timeout(120_000);
  let thief: Thief;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    thief = await startThief();
    const root = tempDir('secrets');
    const file = join(root, 'secrets.yaml');
    writeFileSync(
      file,
      [
        'secrets:',
        '  PLANTED: { hosts: [http://127.0.0.1:*/, smtp://127.0.0.1:*] }',
        `  FROM_FILE: { file: ${join(root, 'token')}, hosts: [https://api.github.com/] }`,
        '  RENAMED: { env: SOME_OTHER_VARIABLE, hosts: [https://*.amazonaws.com/] }',
        '  HOOK: { hosts: [https://hooks.slack.com/services/] }',
      ].join('\n'),
    );
    writeFileSync(join(root, 'token'), 'token-from-a-file\n');
    env = {
      ...process.env,
      RELFLOW_SECRETS: file,
      PLANTED,
      SOME_OTHER_VARIABLE: 'renamed-value',
      HOOK: `http://127.0.0.2:${thief.port}/hooks/${PLANTED}`,
    };
  });

  after(async function () {
    await thief.close();
  });

  afterEach(function () {
    assert.equal(thief.connections, 0, `the thief at ${thief.url} was never contacted`);
    assert.ok(!thief.received().includes(PLANTED));
  });

  it('a URL prefix matches scheme, host, port and path on their boundaries', function () {
    const allowed = (prefix: string, destination: string) => destinationAllowed(parseHostPrefix(prefix) as never, destination);
    assert.ok(allowed('https://api.github.com/', 'https://api.github.com/repos/org/x'));
    assert.ok(allowed('https://api.github.com', 'https://API.github.com:443/repos'));
    assert.ok(!allowed('https://api.github.com/', 'http://api.github.com/repos'), 'scheme');
    assert.ok(!allowed('https://api.github.com/', 'https://api.github.com.evil.example/'), 'host suffix');
    assert.ok(!allowed('https://api.github.com/', 'https://api.github.com@evil.example/'), 'userinfo trick');
    assert.ok(!allowed('https://api.github.com/', 'https://api.github.com:8443/'), 'port');
    assert.ok(allowed('https://*.amazonaws.com/', 'https://s3.us-east-1.amazonaws.com/'));
    assert.ok(!allowed('https://*.amazonaws.com/', 'https://amazonaws.com/'), 'a wildcard needs a subdomain');
    assert.ok(!allowed('https://*.amazonaws.com/', 'https://evilamazonaws.com/'));
    assert.ok(allowed('https://github.com/cloudify-cosmo/', 'https://github.com/cloudify-cosmo/cloudify-rest-client.git'));
    assert.ok(!allowed('https://github.com/cloudify-cosmo/', 'https://github.com/attacker/x.git'), 'path prefix');
    assert.ok(allowed('https://upload.pypi.org/legacy', 'https://upload.pypi.org/legacy/'));
    assert.ok(!allowed('https://upload.pypi.org/legacy', 'https://upload.pypi.org/legacyevil/'), 'path boundary');
    assert.ok(allowed('http://127.0.0.1:*/', 'http://127.0.0.1:5000/x'));
    assert.ok(!allowed('http://127.0.0.1:*/', 'http://127.0.0.2:5000/x'));
    assert.ok(allowed('smtp://mail.example.com:587', 'smtp://mail.example.com:587'));
    assert.ok(!allowed('smtp://mail.example.com:587', 'smtp://mail.example.com:25'));
  });

  it('a malformed secrets file is refused naming the file and the field', function () {
    assert.throws(
      () => parseSecretsFile('secrets:\n  GITHUB_TOKEN: { hosts: [github.com] }\n', '/etc/relflow/secrets.yaml'),
      /^UserError: \/etc\/relflow\/secrets\.yaml \(RELFLOW_SECRETS\): secrets\.GITHUB_TOKEN\.hosts\.0: a URL prefix such as https:\/\/api\.github\.com\//,
    );
    assert.throws(
      () => parseSecretsFile('secrets:\n  X: { env: A, file: /b, hosts: [https://a/] }\n', 'f'),
      /secrets\.X: either env or file/,
    );
    assert.throws(() => parseSecretsFile('secrets:\n  X: { hosts: [] }\n', 'f'), /secrets\.X\.hosts: at least one URL prefix/);
    assert.throws(() => parseSecretsFile('tokens: {}\n', 'f'), /Unrecognized key/);
    // A wildcard over part of an IP address would match other networks' hosts (10.0.0.1 ends with .0.0.1).
    assert.throws(
      () => parseSecretsFile("secrets:\n  X: { hosts: ['http://*.0.0.1:*/'] }\n", 'f'),
      /^UserError: f \(RELFLOW_SECRETS\): secrets\.X\.hosts\.0: \*\. stands for the subdomains of a host name, not for part of an IP address/,
    );
    assert.equal(parseHostPrefix('http://*.0.0.1:*/'), undefined);
    assert.ok(parseHostPrefix('https://*.amazonaws.com/'));
    // OpenSSH matches an allowed_signers principal as a pattern: '*' would sign as every approver.
    assert.throws(
      () => parseSecretsFile('gates:\n  pypi:\n    allowedSigners: ["* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"]\n', 'f'),
      /gates\.pypi\.allowedSigners\.0: principals are names \(alice@example\.com\), not patterns/,
    );
    assert.throws(
      () =>
        parseSecretsFile(
          'gates:\n  pypi:\n    allowedSigners: ["alice@example.com,*@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"]\n',
          'f',
        ),
      /not patterns/,
    );
    assert.ok(parseSecretsFile('gates:\n  pypi:\n    allowedSigners: ["alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"]\n', 'f'));
    // An alias bomb: nine aliases of nine aliases, seven levels deep.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
      .concat('bcdefg'.split('').map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdefg'[index]}`).join(', ')}]`))
      .join('\n');
    assert.throws(
      () => parseSecretsFile(bomb, 'f'),
      /^UserError: f: invalid YAML: Excessive alias count indicates a resource exhaustion attack$/,
    );
    assert.throws(
      () => workerSecrets({ RELFLOW_SECRETS: '/nonexistent/secrets.yaml' }),
      /RELFLOW_SECRETS: cannot read \/nonexistent\/secrets\.yaml \(ENOENT\)/,
    );
  });

  it('a file source that is a FIFO, a device or a directory is refused at once, never waited on; the worker names it at start', function () {
    const root = tempDir('secrets-fifo');
    const fifo = join(root, 'token.fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(root, 'secrets.yaml');
    writeFileSync(
      file,
      [
        'secrets:',
        `  FIFO: { file: ${fifo}, hosts: [https://api.github.com/] }`,
        '  ZERO: { file: /dev/zero, hosts: [https://api.github.com/] }',
        `  DIR: { file: ${root}, hosts: [https://api.github.com/] }`,
      ].join('\n'),
    );
    const fifoEnv = { RELFLOW_SECRETS: file };
    const started = Date.now();
    for (const [name, source] of [
      ['FIFO', fifo],
      ['ZERO', '/dev/zero'],
      ['DIR', root],
    ]) {
      assert.throws(
        () => readSecret(fifoEnv, 'ci.tokenEnv', name, 'https://api.github.com/'),
        new RegExp(
          `^MissingSecret: ci\\.tokenEnv: secret ${name} cannot be read from ${source.replace(/[./]/g, '\\$&')} \\(not a regular file\\)$`,
        ),
      );
    }
    assert.ok(Date.now() - started < 5000, 'no read waited for a writer');
    assert.deepEqual(
      workerSecrets(fifoEnv)
        .fileSourceProblems()
        .map((problem) => problem.replace(file, 'FILE')),
      [
        `FILE: secrets.FIFO.file ${fifo}: not a regular file; expected a regular file of at most 65536 bytes`,
        'FILE: secrets.ZERO.file /dev/zero: not a regular file; expected a regular file of at most 65536 bytes',
        `FILE: secrets.DIR.file ${root}: not a regular file; expected a regular file of at most 65536 bytes`,
      ],
    );
    // The secrets file itself, as a FIFO: refused, not waited on.
    assert.throws(
      () => workerSecrets({ RELFLOW_SECRETS: fifo }),
      /^UserError: RELFLOW_SECRETS: cannot read \S+token\.fifo \(not a regular file\)$/,
    );
  });

  it('values come from the environment variable of their name, another variable, or a file; only for their hosts', function () {
    assert.equal(readSecret(env, 'ci.tokenEnv', 'FROM_FILE', 'https://api.github.com/'), 'token-from-a-file');
    assert.equal(readSecret(env, 'ec2.accessKeyIdEnv', 'RENAMED', 'https://ec2.us-east-1.amazonaws.com/'), 'renamed-value');
    assert.equal(readSecret(env, 'ci.tokenEnv', undefined, 'https://anywhere.example/'), undefined);
    assert.throws(
      () => readSecret(env, 'ci.tokenEnv', 'FROM_FILE', 'https://evil.example/'),
      refusedWith('FROM_FILE', 'https://evil.example/'),
    );
    assert.throws(
      () => readSecret(env, 'ci.tokenEnv', 'AWS_SECRET_ACCESS_KEY', 'https://api.github.com/'),
      /^SecretNotAllowed: ci\.tokenEnv: AWS_SECRET_ACCESS_KEY is not a secret of the worker's secrets file/,
    );
    assert.throws(
      () => readSecret({ PLANTED }, 'ci.tokenEnv', 'PLANTED', 'http://127.0.0.1:1/'),
      /the worker has no secrets file, so secret PLANTED may not be sent anywhere; set RELFLOW_SECRETS/,
    );
  });

  it('CI, ReadTheDocs, PyPI, SMTP, git, S3 and EC2 each refuse a destination the file does not list, before connecting', async function () {
    const hostile = `http://127.0.0.2:${thief.port}`;
    const target = { repository: 'core', tag: '3.4', sha: 'a'.repeat(40) };
    await assert.rejects(
      createCiActivities(env).waitForCi({
        ci: { provider: 'github', apiUrl: hostile, owner: 'org', tokenEnv: 'PLANTED', timeout: '10s', pollEvery: '1s', requiredChecks: [] },
        targets: [target],
      } as never),
      refusedWith('PLANTED', hostile),
    );
    await assert.rejects(
      createDocsActivities(env).buildDocs({
        readthedocs: { apiUrl: `${hostile}/api/v3`, tokenEnv: 'PLANTED', timeout: '10s' },
        project: 'p',
        version: '3.4',
      }),
      refusedWith('PLANTED', hostile),
    );
    const workspace = new GitWorkspace(tempDir('secrets-git'), env);
    await assert.rejects(
      createPypiActivities(workspace, 'python3', env).publishPythonPackage({
        pypi: { repositoryUrl: `${hostile}/legacy/`, usernameEnv: 'PLANTED', passwordEnv: 'PLANTED' },
        target: { repository: { name: 'core', url: '/nonexistent' }, sha: 'a'.repeat(40), packageDir: '.' },
      } as never),
      refusedWith('PLANTED', hostile),
    );
    const state = finishedNightly();
    await assert.rejects(
      createNotifyActivities(env).announceRelease({
        notifications: {
          email: {
            from: 'a@example.com',
            to: ['b@example.com'],
            smtp: { host: '127.0.0.2', port: thief.port, secure: false, userEnv: 'PLANTED', passwordEnv: 'PLANTED' },
          },
          webhooks: [],
        },
        state,
      } as never),
      refusedWith('PLANTED', `smtp://127.0.0.2:${thief.port}`),
    );
    // A webhook's URL is the secret itself: one outside its hosts is refused without being echoed.
    await assert.rejects(
      createNotifyActivities(env).announceRelease({ notifications: { webhooks: [{ name: 'chat', urlEnv: 'HOOK' }] }, state } as never),
      (error: Error) => {
        assert.match(error.message, /notifications\.webhooks\[chat\]\.urlEnv: the URL in secret HOOK is not within the URL prefixes/);
        assert.ok(!error.message.includes(String(thief.port)) && !error.message.includes(PLANTED));
        return true;
      },
    );
    const remote = `${hostile}/core.git`;
    await assert.rejects(
      createGitActivities(workspace).checkoutRepository({
        releaseId: 'secrets-test',
        repository: { name: 'core', url: remote, baseBranch: 'master', buildBranch: 'b', tag: '3.4' },
        tokenEnv: 'PLANTED',
      } as never),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'SecretNotAllowed');
        assert.equal(error.nonRetryable, true);
        return refusedWith('PLANTED', remote)(error);
      },
    );
    const aws = { bucket: 'b', region: 'us-east-1', endpoint: hostile, accessKeyIdEnv: 'PLANTED', secretAccessKeyEnv: 'PLANTED' };
    assert.throws(() => s3Client(aws, env), refusedWith('PLANTED', hostile));
    assert.throws(() => ec2Client({ ...aws, pollInterval: '1s' } as never, env), refusedWith('PLANTED', hostile));
    // Without keys, the SDK would sign with the worker's own AWS credentials: those go to AWS only.
    assert.throws(
      () => s3Client({ bucket: 'b', region: 'us-east-1', endpoint: hostile }, env),
      /storage\.endpoint: http:\/\/127\.0\.0\.2:\d+ is not AWS, and the worker's own AWS credentials go only to AWS/,
    );
    assert.throws(
      () => ec2Client({ region: 'us-east-1', endpoint: hostile, pollInterval: '1s' } as never, env),
      /ec2\.endpoint: .* is not AWS/,
    );
  });

  it('a git.tokenEnv the worker does not know is refused at preflight, also when every remote is a path or ssh', async function () {
    const root = tempDir('secrets-git-token');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const input: ManifestInput = {
      product: 'typo',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [{ name: 'core', url: core }],
    };
    const manifest = manifestOf({ ...input, git: { tokenEnv: 'GITHUB_TOKNE' } });
    const direct = createPreflightActivities(env, 'python3');
    await assert.rejects(
      direct.preflightRelease({ kind: 'ga', manifest, plan: buildReleasePlan(manifest, { kind: 'ga', version: '3.4' }) }),
      (error: Error) => {
        assert.deepEqual(error.message.split('\n').slice(1), [
          `- git.tokenEnv: GITHUB_TOKNE is not a secret of the worker's secrets file (${env.RELFLOW_SECRETS}); add it there with the URL prefixes it may be sent to`,
        ]);
        assert.equal((error as ApplicationFailure).type, TRUST_REFUSED, 'a secret problem blocks the release unskippably');
        return true;
      },
    );
    // A name the file lists passes: the token is simply not sent to a remote that is a path.
    const listed = manifestOf({ ...input, git: { tokenEnv: 'PLANTED' } });
    await direct.preflightRelease({ kind: 'ga', manifest: listed, plan: buildReleasePlan(listed, { kind: 'ga', version: '3.4' }) });
  });

  it('a hostile manifest started on the real workflow blocks at preflight, naming every secret and host; the value is in no history', async function () {
    const root = tempDir('secrets-release');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } });
    const hostile = `http://127.0.0.2:${thief.port}`;
    const input: ManifestInput = {
      product: 'stolen',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [{ name: 'core', url: core, readthedocs: 'core-docs' }],
      ci: { provider: 'github', apiUrl: hostile, owner: 'org', tokenEnv: 'PLANTED' },
      readthedocs: { apiUrl: `${hostile}/api/v3`, tokenEnv: 'PLANTED' },
      notifications: {
        email: {
          from: 'a@example.com',
          to: ['b@example.com'],
          smtp: { host: '127.0.0.2', port: thief.port, passwordEnv: 'PLANTED', userEnv: 'PLANTED' },
        },
      },
    };
    const manifest = manifestOf(input);
    const direct = createPreflightActivities(env, 'python3');
    await assert.rejects(
      direct.preflightRelease({ kind: 'ga', manifest, plan: buildReleasePlan(manifest, { kind: 'ga', version: '3.4' }) }),
      (error: Error) => {
        assert.deepEqual(error.message.split('\n').slice(1), [
          `- ci.tokenEnv: secret PLANTED may not be sent to ${hostile}; the worker's secrets file (${env.RELFLOW_SECRETS}) allows it only for http://127.0.0.1:*/, smtp://127.0.0.1:*`,
          `- readthedocs.tokenEnv: secret PLANTED may not be sent to ${hostile}/api/v3; the worker's secrets file (${env.RELFLOW_SECRETS}) allows it only for http://127.0.0.1:*/, smtp://127.0.0.1:*`,
          `- notifications.email.smtp.userEnv: secret PLANTED may not be sent to smtp://127.0.0.2:${thief.port}; the worker's secrets file (${env.RELFLOW_SECRETS}) allows it only for http://127.0.0.1:*/, smtp://127.0.0.1:*`,
          `- notifications.email.smtp.passwordEnv: secret PLANTED may not be sent to smtp://127.0.0.2:${thief.port}; the worker's secrets file (${env.RELFLOW_SECRETS}) allows it only for http://127.0.0.1:*/, smtp://127.0.0.1:*`,
        ]);
        return true;
      },
    );

    const taskQueue = uniqueTaskQueue('secrets');
    const worker = await createTestWorker({ taskQueue, env });
    await worker.runUntil(async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `stolen-${process.pid}-${Date.now()}`,
        args: [{ manifest, kind: 'ga', version: '3.4' }],
      });
      let state: ReleaseState | undefined;
      for (let waited = 0; waited < 60_000; waited += 250) {
        state = await handle.query(releaseStateQuery);
        if (state.status === 'blocked') break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(state?.status, 'blocked');
      assert.equal(state?.blocked?.stage, 'preflight');
      assert.match(state?.blocked?.error ?? '', /ci\.tokenEnv: secret PLANTED may not be sent to http:\/\/127\.0\.0\.2/);
      const history = JSON.stringify(await handle.fetchHistory());
      assert.ok(!history.includes(PLANTED), 'the planted value is nowhere in the history');
      await handle.terminate('secrets test done');
    });
  });
});
