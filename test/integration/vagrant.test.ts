import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { BuildRequest } from '../../src/activities/builders';
import { createVagrantBuilder } from '../../src/activities/builders/vagrant';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { releaseWorkflow } from '../../src/workflows';
import { createRemote, git } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

/**
 * No Vagrant provider runs here (no VirtualBox, no libvirt, no AWS), so the
 * tests put a stand-in `vagrant` on RELFLOW_VAGRANT: it keeps the machine's
 * state in .vagrant as Vagrant does, refuses `ssh` to a machine that is not up,
 * runs `ssh -c` in the machine's own home directory, answers `--version`
 * anywhere (the preflight asks), and logs every call.
 */
function standInVagrant(dir: string): { bin: string; log: string } {
  const bin = join(dir, 'vagrant');
  const log = join(dir, 'vagrant.log');
  writeFileSync(
    bin,
    `#!/bin/sh
set -eu
[ "\${1:-}" = --version ] && { echo "Vagrant 2.4.1"; exit 0; }
[ -f Vagrantfile ] || { echo "A Vagrant environment or target machine is required to run this command." >&2; exit 1; }
machine="$PWD/.vagrant/machines/default/stand-in"
echo "$1 \${RELFLOW_SHA:-}" >> '${log}'
case "$1" in
  up) [ -d "$machine" ] || mkdir -p "$machine/home" ;;
  ssh) [ -d "$machine" ] || { echo "VM must be running to open SSH connection." >&2; exit 1; }
       [ "$2" = -c ] || exit 2
       cd "$machine/home" && HOME="$machine/home" exec sh -c "$3" ;;
  destroy) rm -rf "$PWD/.vagrant" ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(bin, 0o755);
  return { bin, log };
}

const BUILD_SH = '#!/bin/sh\nset -e\nmkdir -p dist\necho "box $RELFLOW_VERSION $RELFLOW_SHA" > dist/manager.box\n';

async function setup(bucket: string) {
  const root = tempDir('vagrant');
  const remote = createRemote(root, {
    name: 'packager',
    files: { 'build.sh': BUILD_SH, 'vagrant/box/Vagrantfile': 'Vagrant.configure("2") { |config| config.vm.box = ENV["RELFLOW_SHA"] }\n' },
  });
  const endpoint = await motoEndpoint();
  const storage = {
    bucket,
    region: 'us-east-1',
    endpoint,
    accessKeyIdEnv: 'TEST_AWS_KEY',
    secretAccessKeyEnv: 'TEST_AWS_SECRET',
    layout: 'org/{{ product }}/{{ file }}',
    nightlyLayout: 'n/{{ product }}/{{ file }}',
    specLayout: 'spec/{{ file }}',
    md5: false,
    firstBuildNumber: 1,
    mirrors: [{ type: 'directory' as const, name: 'tarzan', path: join(root, 'tarzan') }],
  };
  await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(new CreateBucketCommand({ Bucket: bucket }));
  return { root, remote, storage, vagrant: standInVagrant(root) };
}

describe('vagrant builder (a stand-in vagrant CLI; no provider runs here)', function () {
  this.timeout(120_000);

  it('a nightly builds its box: up in the Vagrantfile directory of the release commit, ssh -c, destroy -f', async function () {
    const { remote, storage, vagrant } = await setup('vagrant-release');
    const manifest = validateManifest(
      {
        product: 'vagrantbox',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [{ name: 'packager', url: remote }],
        artifacts: [
          {
            name: 'manager-box',
            repository: 'packager',
            builder: 'vagrant',
            command: 'sh build.sh',
            outputs: ['dist/*.box'],
            vagrant: { directory: 'vagrant/box' },
          },
        ],
        storage,
      },
      'vagrant manifest',
    );
    const taskQueue = uniqueTaskQueue('vagrant');
    const workspaceDir = tempDir('vagrant-workspace');
    const state = await withWorkers(
      { taskQueue, workspaceDir, env: { ...process.env, ...MOTO_ENV, RELFLOW_VAGRANT: vagrant.bin } },
      async () => {
        const handle = await testClient().workflow.start(releaseWorkflow, {
          taskQueue,
          workflowId: `vagrantbox-${Date.now()}`,
          args: [{ manifest, kind: 'nightly', date: '20261125', buildTaskQueue: `${taskQueue}-builds` }],
        });
        return handle.result();
      },
    );
    assert.equal(state.status, 'succeeded', JSON.stringify(state.stages));
    const artifact = state.artifacts.find((candidate) => candidate.name === 'manager-box');
    assert.deepEqual(
      artifact?.files?.map((file) => file.file),
      ['manager.box'],
    );
    const tagSha = state.repositories[0].tagSha as string;
    assert.match(
      readFileSync(new URL(artifact?.files?.[0].urls[1] as string), 'utf8'),
      new RegExp(`^box \\S+ ${tagSha}\n$`),
      'built on the machine from the tag commit',
    );
    assert.deepEqual(
      readFileSync(vagrant.log, 'utf8').trim().split('\n'),
      [`up ${tagSha}`, `ssh ${tagSha}`, `destroy ${tagSha}`],
      'one machine, built from the tag commit, destroyed',
    );
    assert.deepEqual(
      readdirSync(join(workspaceDir, 'builds', state.releaseId, 'manager-box')),
      [],
      'the machine directory is gone with the machine',
    );
  });

  it('refuses what cannot work before starting a machine, and reports a failed build with its log', async function () {
    const { root, remote, storage, vagrant } = await setup('vagrant-direct');
    const env = { ...process.env, ...MOTO_ENV, RELFLOW_VAGRANT: vagrant.bin };
    const workspace = new GitWorkspace(join(root, 'workspace', 'git'), env);
    const request = (directory: string, command = 'sh build.sh'): BuildRequest => ({
      releaseId: `vagrant-direct-${Date.now()}`,
      artifact: {
        name: 'box',
        repository: 'packager',
        builder: 'vagrant',
        command,
        outputs: ['dist/*.box'],
        timeout: '10m',
        vagrant: { directory },
      },
      repository: { name: 'packager', url: remote },
      sha: git(remote, 'rev-parse', 'master'),
      version: '3.5.0',
      storage,
      keyPrefix: 'org/vagrant/direct/',
      timeoutMs: 600_000,
      runId: 'run-1',
    });
    const builder = createVagrantBuilder(workspace, join(root, 'workspace', 'builds'), env, 100);
    await assert.rejects(
      builder.provision(request('vagrant')),
      /artifacts\.box\.vagrant\.directory: no Vagrantfile in 'vagrant' of packager at [0-9a-f]{12}/,
    );
    await assert.rejects(
      builder.provision(request('../../etc')),
      /artifacts\.box\.vagrant\.directory: '\.\.\/\.\.\/etc' must be a relative path inside .*\/src$/,
    );
    // A directory of the repository that is a link out of it, to a Vagrantfile of someone else's.
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(join(elsewhere, 'Vagrantfile'), 'Vagrant.configure("2") { }\n');
    const work = join(root, 'work', 'packager');
    symlinkSync(elsewhere, join(work, 'linked-box'));
    git(work, 'add', 'linked-box');
    git(work, 'commit', '-q', '-m', 'a box directory that links out');
    git(work, 'push', '-q', remote, 'HEAD:master');
    await assert.rejects(
      builder.provision({ ...request('linked-box'), sha: git(remote, 'rev-parse', 'master') }),
      /artifacts\.box\.vagrant\.directory: 'linked-box' leaves .*\/src \(through a link\)/,
    );
    assert.equal(existsSync(vagrant.log), false, 'no vagrant command ran');
    const missing = createVagrantBuilder(
      workspace,
      join(root, 'workspace', 'builds'),
      { ...env, RELFLOW_VAGRANT: join(root, 'no-such-vagrant') },
      100,
    );
    await assert.rejects(
      missing.provision(request('vagrant/box')),
      /is not installed on this build worker \(install Vagrant, or set RELFLOW_VAGRANT\)/,
    );

    const failing = request('vagrant/box', 'echo box exploded; exit 3');
    const machine = await builder.provision(failing);
    assert.equal((await builder.provision(failing)).id, machine.id, 'a retried provision resumes the same machine');
    await assert.rejects(builder.build({ ...failing, machine }), /box: the build on vagrant:.* failed: .*box exploded/);
    await builder.tearDown({ ...failing, machine });
    await builder.tearDown({ ...failing, machine });
    const calls = readFileSync(vagrant.log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0]);
    assert.deepEqual(calls, ['up', 'up', 'ssh', 'destroy'], 'vagrant up twice (one machine), destroyed once');
  });
});
