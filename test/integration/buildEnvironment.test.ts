import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sandboxed, workerSandbox } from '../../src/activities/builders/sandbox';
import { ApplicationFailure } from '@temporalio/common';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { localBuildEnvironment, vagrantEnvironment } from '../../src/activities/builders/buildEnvironment';
import { createLocalBuilder } from '../../src/activities/builders/local';
import type { BuildRequest } from '../../src/activities/builders/types';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { createRemote, git } from '../support/gitRepos';
import { tempDir } from '../support/temporal';

const PLANTED = 'planted-worker-secret-41c2';

/** A worker's environment with what a build must never see. */
function workerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...MOTO_ENV,
    SSH_AUTH_SOCK: '/tmp/ssh-agent.sock',
    GITHUB_TOKEN: PLANTED,
    AWS_SECRET_ACCESS_KEY: PLANTED,
    WORKER_ONLY: PLANTED,
    JAVA_HOME: '/usr/lib/jvm/java-17',
    HOME: '/home/relflow',
  };
}

function request(overrides: Partial<BuildRequest['artifact']> = {}): BuildRequest {
  return {
    releaseId: 'cloudify-3.4',
    artifact: {
      name: 'agent',
      repository: 'agent',
      builder: 'local',
      command: 'env > dist/env.txt',
      outputs: ['dist/env.txt'],
      timeout: '10m',
      ...overrides,
    },
    repository: { name: 'agent', url: '/nonexistent' },
    sha: 'a'.repeat(40),
    version: '3.4',
    storage: { bucket: 'b' } as BuildRequest['storage'],
    keyPrefix: 'x/',
    timeoutMs: 60_000,
  };
}

/** The real local builder, on moto S3, over a repository whose build.sh runs these lines in a fresh dist/. */
async function localBuild(name: string, script: string, artifact: Partial<BuildRequest['artifact']>) {
  const root = tempDir(name);
  const remote = createRemote(root, { name: 'agent', files: { 'build.sh': `#!/bin/sh\nmkdir -p dist\n${script}\n` } });
  const endpoint = await motoEndpoint();
  const storage = {
    bucket: name,
    region: 'us-east-1',
    endpoint,
    accessKeyIdEnv: 'TEST_AWS_KEY',
    secretAccessKeyEnv: 'TEST_AWS_SECRET',
    mirrors: [],
  };
  const env = workerEnv();
  const bucket = s3Client(storage, env);
  await bucket.send(new CreateBucketCommand({ Bucket: name }));
  const builder = createLocalBuilder(new GitWorkspace(join(root, 'git'), env), join(root, 'builds'), env);
  const build = {
    ...request({ command: 'sh build.sh', ...artifact }),
    repository: { name: 'agent', url: remote },
    sha: git(remote, 'rev-parse', 'master'),
    storage: storage as unknown as BuildRequest['storage'],
  };
  return { root, builder, build, bucket };
}

/** Commits build.sh with these lines to the build's remote, and points the build at that commit. */
async function commitScript(setup: Awaited<ReturnType<typeof localBuild>>, script: string): Promise<void> {
  const work = join(setup.root, 'work', 'agent');
  writeFileSync(join(work, 'build.sh'), `#!/bin/sh\nmkdir -p dist\n${script}\n`);
  git(work, 'commit', '-q', '-am', 'hostile build');
  git(work, 'push', '-q', setup.build.repository.url, 'master');
  setup.build.sha = git(work, 'rev-parse', 'HEAD').trim();
}

describe('least privilege for builds: the environment a build command and vagrant see', function () {
  this.timeout(120_000);

  it('a local build sees PATH, a scratch HOME, its release, and only the variables its artifact lists', function () {
    const home = join(tempDir('build-env'), 'home');
    const env = localBuildEnvironment(workerEnv(), request({ env: ['JAVA_HOME'] }), home);
    assert.equal(env.HOME, home);
    assert.equal(env.JAVA_HOME, '/usr/lib/jvm/java-17');
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(env.RELFLOW_VERSION, '3.4');
    for (const name of ['SSH_AUTH_SOCK', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'WORKER_ONLY', 'TEST_AWS_SECRET', 'RELFLOW_SECRETS'])
      assert.equal(env[name], undefined, name);
    assert.ok(!JSON.stringify(env).includes(PLANTED));
  });

  it('a credential-like variable or a secret of the worker is refused in artifacts[].env, by validate and by the builder', function () {
    const manifest = (env: string[]) =>
      validateManifest(
        {
          product: 'p',
          versions: { core: '3.4', plugins: '1.4' },
          repositories: [{ name: 'agent', url: '/srv/agent.git' }],
          artifacts: [{ name: 'agent', repository: 'agent', command: 'make', outputs: ['x'], env }],
          storage: { bucket: 'releases' },
        },
        'relflow.yaml',
      );
    assert.throws(
      () => manifest(['GITHUB_TOKEN']),
      /artifacts\[0\]\.env\[0\]: a variable that may hold a credential is never passed to a build/,
    );
    assert.throws(() => manifest(['SSH_AUTH_SOCK']), /artifacts\[0\]\.env\[0\]/);
    assert.doesNotThrow(() => manifest(['JAVA_HOME', 'GOFLAGS']));
    // A secret of the secrets file that looks harmless (the suite's file lists GH, CHAT, RTD): refused by the builder.
    assert.throws(
      () => localBuildEnvironment(workerEnv(), request({ env: ['CHAT'] }), join(tempDir('build-env'), 'home')),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        /artifacts\.agent\.env: CHAT may hold a credential \(or is a secret of the worker's secrets file\)/.test(error.message),
    );
  });

  it('vagrant sees its own variables, the operator’s RELFLOW_VAGRANT_ENV and a scratch HOME; boxes stay in the worker’s ~/.vagrant.d', function () {
    const home = join(tempDir('vagrant-env'), 'home');
    const env = vagrantEnvironment(
      { ...workerEnv(), VAGRANT_DEFAULT_PROVIDER: 'aws', AWS_PROFILE: 'builds', RELFLOW_VAGRANT_ENV: 'AWS_PROFILE' },
      request(),
      home,
    );
    assert.equal(env.HOME, home);
    assert.equal(env.VAGRANT_HOME, '/home/relflow/.vagrant.d');
    assert.equal(env.VAGRANT_DEFAULT_PROVIDER, 'aws');
    assert.equal(env.AWS_PROFILE, 'builds');
    assert.equal(env.RELFLOW_SHA, 'a'.repeat(40));
    for (const name of ['SSH_AUTH_SOCK', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'WORKER_ONLY']) assert.equal(env[name], undefined, name);
  });

  it('a hostile commit whose build leaves a link to /proc/self/environ as its output fails the build by name; nothing is stored', async function () {
    const { builder, build, bucket } = await localBuild('build-link', 'ln -s /proc/self/environ dist/agent.tar.gz', {
      outputs: ['dist/*.tar.gz'],
    });
    await assert.rejects(builder.build({ ...build, machine: await builder.provision(build) }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'InvalidOutput');
      assert.match(
        error.message,
        /^agent: output dist\/agent\.tar\.gz is a symbolic link to \/proc\/self\/environ; build outputs must be regular files/,
      );
      assert.ok(!error.message.includes(PLANTED));
      return true;
    });
    assert.equal((await bucket.send(new ListObjectsV2Command({ Bucket: build.storage.bucket }))).KeyCount ?? 0, 0, 'nothing stored');
  });

  it('through the real local builder: the stored env.txt of a build holds none of the worker’s secrets', async function () {
    const { builder, build, bucket, root } = await localBuild('build-env-real', 'env > dist/env.txt\nls -a "$HOME" >> dist/env.txt', {
      env: ['JAVA_HOME'],
    });
    const [stored] = await builder.build({ ...build, machine: await builder.provision(build) });
    const object = await bucket.send(new GetObjectCommand({ Bucket: build.storage.bucket, Key: `x/${stored.file}` }));
    const seen = (await object.Body?.transformToString()) ?? '';
    assert.match(seen, /^JAVA_HOME=\/usr\/lib\/jvm\/java-17$/m);
    assert.match(seen, new RegExp(`^HOME=${join(root, 'builds')}/cloudify-3.4/agent/home$`, 'm'));
    assert.ok(!seen.includes(PLANTED), 'no worker secret');
    assert.doesNotMatch(seen, /SSH_AUTH_SOCK|TEST_AWS|RELFLOW_SECRETS/);
  });

  it('a local build runs in bubblewrap: it cannot read the worker, write outside its directory, reach the network or outlive itself', async function () {
    const listener = createServer((socket) => socket.end('reached\n'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const script = (root: string) =>
      [
        `cat ${root}/worker-file.txt > dist/seen.txt 2>&1 || echo "worker file: unreadable" >> dist/seen.txt`,
        `grep -l ${PLANTED} /proc/*/environ >> dist/seen.txt 2>/dev/null || echo "environ: none" >> dist/seen.txt`,
        `test -e /proc/${process.pid} && echo "worker pid: visible" >> dist/seen.txt || echo "worker pid: hidden" >> dist/seen.txt`,
        `echo x > ${root}/escaped.txt 2>/dev/null && echo "outside: written" >> dist/seen.txt || echo "outside: refused" >> dist/seen.txt`,
        `echo x > /etc/relflow-escape 2>/dev/null && echo "system: written" >> dist/seen.txt || echo "system: refused" >> dist/seen.txt`,
        `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3' >> dist/seen.txt 2>/dev/null || echo "network: none" >> dist/seen.txt`,
        `setsid sh -c 'sleep 3131; echo late > ${root}/late.txt' > /dev/null 2>&1 &`,
        'true',
      ].join('\n');
    try {
      const boxed = await localBuild('build-sandbox', '', { outputs: ['dist/seen.txt'] });
      writeFileSync(join(boxed.root, 'worker-file.txt'), `${PLANTED}\n`);
      await commitScript(boxed, script(boxed.root));
      const [stored] = await boxed.builder.build({ ...boxed.build, machine: await boxed.builder.provision(boxed.build) });
      const object = await boxed.bucket.send(new GetObjectCommand({ Bucket: boxed.build.storage.bucket, Key: `x/${stored.file}` }));
      const seen = (await object.Body?.transformToString()) ?? '';
      assert.ok(!seen.includes(PLANTED), seen);
      for (const line of ['worker file: unreadable', 'environ: none', 'worker pid: hidden', 'system: refused', 'network: none']) {
        assert.match(seen, new RegExp(`^${line}$`, 'm'), seen);
      }
      // A write beside the build directory lands in the sandbox's own /tmp, never on the worker's disk.
      assert.ok(!existsSync(join(boxed.root, 'escaped.txt')));
      assert.equal(spawnSync('pgrep', ['-f', 'sleep 3131']).status, 1, 'the background process died with the build');

      // network: true gives the build the worker's network, nothing else.
      const online = await localBuild('build-sandbox-net', '', { outputs: ['dist/seen.txt'], network: true });
      await commitScript(online, script(online.root));
      const [net] = await online.builder.build({ ...online.build, machine: await online.builder.provision(online.build) });
      const netSeen =
        (await (
          await online.bucket.send(new GetObjectCommand({ Bucket: online.build.storage.bucket, Key: `x/${net.file}` }))
        ).Body?.transformToString()) ?? '';
      assert.match(netSeen, /^reached$/m);
      assert.match(netSeen, /^worker file: unreadable$/m);
      assert.ok(!existsSync(join(online.root, 'escaped.txt')));
    } finally {
      listener.close();
      spawnSync('pkill', ['-f', 'sleep 3131']);
    }
  });

  it('without bubblewrap a local build is refused, naming the fix; RELFLOW_SANDBOX=none builds unsandboxed', function () {
    const missing = workerSandbox({ PATH: process.env.PATH, RELFLOW_BWRAP: '/nonexistent/bwrap' });
    assert.equal(missing.kind, 'missing');
    assert.throws(
      () => sandboxed(missing, ['sh'], { buildDir: '/b', cwd: '/b', env: {}, network: false, what: 'artifacts.agent' }),
      /artifacts\.agent: a product's code \(local builds, a CI command, system tests, python -m build\) runs in a bubblewrap sandbox, and this worker has none: run npm run bootstrap/,
    );
    assert.deepEqual(workerSandbox({ RELFLOW_SANDBOX: 'none' }).kind, 'none');
    assert.deepEqual(
      sandboxed(workerSandbox({ RELFLOW_SANDBOX: 'none' }), ['sh', '-c', 'x'], {
        buildDir: '/b',
        cwd: '/b',
        env: {},
        network: false,
        what: 'a',
      }),
      ['sh', '-c', 'x'],
    );
    assert.match(
      JSON.stringify(workerSandbox({ RELFLOW_SANDBOX: 'docker' })),
      /RELFLOW_SANDBOX=docker: expected bubblewrap \(the default\) or none/,
    );
  });
});
