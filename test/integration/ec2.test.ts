import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createEc2Builder } from '../../src/activities/builders/ec2';
import { reportKeys } from '../../src/activities/builders/remoteMachine';
import type { BuildRequest } from '../../src/activities/builders';
import { readStoredText, s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { releaseWorkflow } from '../../src/workflows';
import { releaseStateQuery } from '../../src/workflows/api';
import { createRemote, git } from '../support/gitRepos';
import { playMachines } from '../support/machines';
import { runCli } from '../support/cli';
import { writeManifest } from '../support/manifests';
import { tempDir, testClient, testServer, uniqueTaskQueue, withWorkers } from '../support/temporal';

const ENV = { ...process.env, ...MOTO_ENV };

/** Plays the machine: runs the user-data as EC2 would at boot (asynchronously, so the builder keeps polling). */
async function runMachine(script: string, cwd: string, env: Record<string, string> = {}): Promise<void> {
  await promisify(execFile)('sh', ['-c', script], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } }).catch(
    () => undefined,
  );
}

async function setup(bucket: string) {
  const root = tempDir('ec2');
  const remote = createRemote(root, {
    name: 'agent',
    files: {
      'build.sh':
        '#!/bin/sh\nset -e\nmkdir -p dist\necho "agent $RELFLOW_VERSION" > dist/agent.txt\ntar czf dist/agent.tar.gz dist/agent.txt\n',
    },
  });
  const endpoint = await motoEndpoint();
  const storage = {
    bucket,
    region: 'us-east-1',
    endpoint,
    accessKeyIdEnv: 'TEST_AWS_KEY',
    secretAccessKeyEnv: 'TEST_AWS_SECRET',
    layout: 'org/{{ product }}/{{ file }}',
    nightlyLayout: 'n/{{ file }}',
    specLayout: 'spec/{{ file }}',
    md5: false,
    firstBuildNumber: 1,
    mirrors: [{ type: 'directory' as const, name: 'tarzan', path: join(root, 'tarzan') }],
  };
  await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(new CreateBucketCommand({ Bucket: bucket }));
  const ec2 = { region: 'us-east-1', endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET', pollInterval: '1s' };
  const client = new EC2Client({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: MOTO_ENV.TEST_AWS_KEY, secretAccessKey: MOTO_ENV.TEST_AWS_SECRET },
  });
  return { root, remote, storage, ec2, client };
}

function buildRequest(
  setupResult: Awaited<ReturnType<typeof setup>>,
  overrides: Partial<BuildRequest> & { command?: string } = {},
): BuildRequest {
  const { command, ...rest } = overrides;
  return {
    releaseId: `ec2-${Date.now()}`,
    artifact: {
      name: 'agent',
      repository: 'agent',
      builder: 'ec2',
      command: command ?? 'sh build.sh',
      outputs: ['dist/*.tar.gz'],
      timeout: '10m',
      ec2: { imageId: 'ami-12c6146b', instanceType: 't3.large' },
    },
    repository: { name: 'agent', url: setupResult.remote },
    sha: git(setupResult.remote, 'rev-parse', 'master'),
    version: '3.4.0',
    storage: setupResult.storage,
    ec2: setupResult.ec2,
    keyPrefix: `org/ec2/${Date.now()}/`,
    timeoutMs: 600_000,
    ...rest,
  };
}

/** A release of the test's agent repository whose artifacts build on ec2. */
function ec2Manifest(
  context: Pick<Awaited<ReturnType<typeof setup>>, 'remote' | 'storage' | 'ec2'>,
  product: string,
  artifacts: { name: string; command: string; timeout?: string }[],
) {
  return validateManifest(
    {
      product,
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'agent', url: context.remote }],
      artifacts: artifacts.map((artifact) => ({
        ...artifact,
        repository: 'agent',
        builder: 'ec2' as const,
        outputs: ['dist/*.tar.gz'],
        ec2: { imageId: 'ami-12c6146b' },
      })),
      storage: context.storage,
      ec2: context.ec2,
    },
    `${product} manifest`,
  );
}

async function userDataOf(client: EC2Client, instanceId: string): Promise<string> {
  const attribute = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
  return Buffer.from(attribute.UserData?.Value ?? '', 'base64').toString('utf8');
}

async function instancesOf(client: EC2Client, release: string) {
  const response = await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:relflow:release', Values: [release] }] }));
  return (response.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
}

describe('ec2 builder on moto (machine lifecycle; the test plays the machine by running its user-data)', function () {
  this.timeout(120_000);

  it('a retried RunInstances gives the same machine; the outputs come back through presigned URLs; tear-down terminates and cleans up', async function () {
    const context = await setup('ec2-direct');
    const { client, root, storage } = context;
    const request = buildRequest(context, { keyPrefix: 'org/ec2/3.4.0/ga-RELEASE/' });
    const builder = createEc2Builder(ENV, 200);
    const first = await builder.provision(request);
    const retried = await builder.provision(request);
    assert.equal(retried.id, first.id, 'a retried provision finds the machine of its run');
    const instances = await instancesOf(client, request.releaseId);
    assert.equal(instances.length, 1);
    assert.equal(instances[0].Tags?.find((tag) => tag.Key === 'relflow:artifact')?.Value, 'agent');

    const script = await userDataOf(client, first.id);
    assert.doesNotMatch(script, new RegExp(MOTO_ENV.TEST_AWS_SECRET), 'no credential on the machine');
    const building = builder.build({ ...request, machine: first });
    await runMachine(script, root);
    const files = await building;
    assert.deepEqual(
      files.map((file) => file.file),
      ['agent.tar.gz'],
    );
    assert.ok(existsSync(join(root, 'tarzan', 'org/ec2/3.4.0/ga-RELEASE/agent.tar.gz')));
    const listed = async (prefix: string) =>
      (
        (
          await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(
            new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix }),
          )
        ).Contents ?? []
      ).map((object) => object.Key);
    assert.equal((await listed(`${request.keyPrefix}.relflow-builds/agent/direct/`)).length, 3, 'outputs, log and status of the machine');

    await builder.tearDown({ ...request, machine: first });
    assert.equal((await instancesOf(client, request.releaseId))[0].State?.Name, 'terminated');
    assert.deepEqual(
      await listed(`${request.keyPrefix}.relflow-builds/`),
      [`${request.keyPrefix}.relflow-builds/agent/built-${request.sha}.json`],
      'the machine reports are removed with the machine; the build record stays',
    );
    await builder.tearDown({ ...request, machine: first });
  });

  it('the machine needs IMDSv2, its URLs expire with the build, and an upload replaced after it reported is refused', async function () {
    const context = await setup('ec2-trust');
    const { client, root, storage } = context;
    const request = buildRequest(context, { timeoutMs: 20 * 60_000, runId: 'run-trust' });
    const builder = createEc2Builder(ENV, 200);
    const machine = await builder.provision(request);
    const [instance] = await instancesOf(client, request.releaseId);
    assert.equal(instance.MetadataOptions?.HttpTokens, 'required', 'IMDSv1 is off: the user-data needs a session token');
    assert.equal(instance.MetadataOptions?.HttpPutResponseHopLimit, 1);
    const script = await userDataOf(client, machine.id);
    const expiries = [...script.matchAll(/X-Amz-Expires=(\d+)/g)].map((match) => Number(match[1]));
    assert.deepEqual(expiries, [1500, 1500, 1500], 'the build timeout (20 min) and five minutes for the last uploads');
    assert.match(script, /-H "Content-MD5: \$md5"/);
    assert.match(script, /tar cf "\$work\/outputs\.tar" --no-recursion -T "\$work\/outputs\.list"/, 'no pattern on the tar command line');

    await runMachine(script, root);
    const keys = reportKeys(request);
    const status = await readStoredText(storage, keys.status, ENV);
    assert.match(status ?? '', /^ok [0-9a-f]{64}$/, 'the machine reports the sha256 of what it uploaded');
    // Something with the URL replaces the tarball after the machine reported: the worker notices.
    const swapped = join(root, 'swapped');
    await promisify(execFile)('sh', [
      '-c',
      `mkdir -p ${swapped}/dist && echo evil > ${swapped}/dist/agent.tar.gz && tar cf ${swapped}.tar -C ${swapped} ./dist/agent.tar.gz`,
    ]);
    await s3Client(storage, ENV).send(
      new PutObjectCommand({ Bucket: storage.bucket, Key: keys.outputs, Body: readFileSync(`${swapped}.tar`) }),
    );
    await assert.rejects(builder.build({ ...request, machine }), (error: Error) => {
      assert.match(
        error.message,
        /^agent: the outputs stored for i-[0-9a-f]+ are not what it built \(sha256 [0-9a-f]{64}, the machine reported [0-9a-f]{64}\)/,
      );
      assert.equal((error as { type?: string }).type, 'BuildOutputMismatch');
      return true;
    });
    await builder.tearDown({ ...request, machine });
  });

  it('a failed build on the machine reports its log; an operator retry (a new run) gets a new machine and its own status', async function () {
    const context = await setup('ec2-failed');
    const { client, root } = context;
    // Fails unless the machine has BUILD_OK=1: the first run fails, the second succeeds.
    const request = buildRequest(context, { command: 'echo compiler exploded; [ "${BUILD_OK:-}" = 1 ] && sh build.sh', runId: 'run-1' });
    const builder = createEc2Builder(ENV, 200);
    const machine = await builder.provision(request);
    const building = builder.build({ ...request, machine });
    await runMachine(await userDataOf(client, machine.id), root);
    await assert.rejects(building, /the build on i-[0-9a-f]+ failed: .*compiler exploded/);
    await builder.tearDown({ ...request, machine });

    const retry = { ...request, runId: 'run-2' };
    const second = await builder.provision(retry);
    assert.notEqual(second.id, machine.id, 'a new run starts a new machine');
    const rebuilding = builder.build({ ...retry, machine: second });
    await runMachine(await userDataOf(client, second.id), root, { BUILD_OK: '1' });
    assert.deepEqual(
      (await rebuilding).map((file) => file.file),
      ['agent.tar.gz'],
      "the retry does not read the failed run's status",
    );
    await builder.tearDown({ ...retry, machine: second });
    assert.deepEqual(
      (await instancesOf(client, request.releaseId)).map((instance) => instance.State?.Name),
      ['terminated', 'terminated'],
    );
  });

  it('relflow reap terminates the machines of releases that no longer run, keeps the others, and runs as a schedule', async function () {
    const context = await setup('ec2-reap');
    const { client, storage, ec2, root } = context;
    const config = writeManifest(root, {
      product: 'reaped',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'agent', url: context.remote }],
      storage,
      ec2,
    });
    const builder = createEc2Builder(ENV, 200);
    // A running release: started on a task queue no worker polls, so it stays running.
    const live = await testClient().workflow.start('releaseWorkflow', {
      taskQueue: uniqueTaskQueue('nobody'),
      workflowId: `reap-live-${Date.now()}`,
      args: [],
    });
    const installation = 'default/reaped';
    const liveMachine = await builder.provision(buildRequest(context, { releaseId: live.workflowId, installation }));
    const goneMachine = await builder.provision(buildRequest(context, { releaseId: `reap-gone-${Date.now()}`, installation }));
    // Another installation on the same account (another namespace or team): its machines are not ours to judge.
    const foreignMachine = await builder.provision(
      buildRequest(context, { releaseId: `reap-foreign-${Date.now()}`, installation: 'staging/reaped' }),
    );
    const ours = async () => {
      const response = await client.send(new DescribeInstancesCommand({ InstanceIds: [liveMachine.id, goneMachine.id] }));
      return Object.fromEntries(
        (response.Reservations ?? [])
          .flatMap((reservation) => reservation.Instances ?? [])
          .map((instance) => [instance.InstanceId, instance.State?.Name]),
      );
    };
    const env = { ...MOTO_ENV, TEMPORAL_ADDRESS: testServer().address };

    const young = JSON.parse(runCli(['reap', '-c', config, '--dry-run', '--json'], env).stdout) as {
      terminated: { instanceId: string }[];
      kept: { instanceId: string }[];
    };
    assert.ok(
      young.kept.some((machine) => machine.instanceId === goneMachine.id),
      'within the default grace period of 15m a machine stays',
    );
    const dry = runCli(['reap', '-c', config, '--dry-run', '--json', '--grace', '0s'], env);
    assert.equal(dry.status, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout) as {
      terminated: { instanceId: string }[];
      kept: { instanceId: string }[];
      others: { instanceId: string; installation: string }[];
    };
    assert.ok(planned.terminated.some((machine) => machine.instanceId === goneMachine.id));
    assert.ok(planned.kept.some((machine) => machine.instanceId === liveMachine.id));
    assert.ok(planned.others.some((machine) => machine.instanceId === foreignMachine.id && machine.installation === 'staging/reaped'));
    assert.ok(
      !planned.terminated.some((machine) => machine.instanceId === foreignMachine.id),
      "another installation's machine is never reaped",
    );
    assert.deepEqual(await ours(), { [liveMachine.id]: 'running', [goneMachine.id]: 'running' }, 'a dry run terminates nothing');

    const reaped = runCli(['reap', '-c', config, '--grace', '0s'], env);
    assert.equal(reaped.status, 0, reaped.stderr);
    assert.match(reaped.stdout, new RegExp(`terminated \\d+ machine\\(s\\):[\\s\\S]*${goneMachine.id}  reap-gone-`));
    assert.deepEqual(await ours(), { [liveMachine.id]: 'running', [goneMachine.id]: 'terminated' });
    assert.match(
      reaped.stdout,
      new RegExp(
        `left alone \\d+ machine\\(s\\) of other installations than default/reaped:[\\s\\S]*${foreignMachine.id} .*installation staging/reaped`,
      ),
    );

    // The release ends without tearing its machine down (terminated by hand): the scheduled reaper finds it.
    await live.terminate('test: a release killed without its tear-down');
    const taskQueue = uniqueTaskQueue('reap');
    await withWorkers({ taskQueue, env: ENV }, async () => {
      const scheduleId = `reap-${Date.now()}`;
      const created = runCli(
        ['schedule', 'create', 'reap', '--cron', '0 * * * *', '-c', config, '--id', scheduleId, '--task-queue', taskQueue, '--grace', '0s'],
        env,
      );
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, new RegExp(`schedule ${scheduleId} created: reap`));
      const schedule = testClient().schedule.getHandle(scheduleId);
      await schedule.trigger();
      for (let waited = 0; (await ours())[liveMachine.id] !== 'terminated' && waited < 60_000; waited += 250)
        await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal((await ours())[liveMachine.id], 'terminated', 'the scheduled reaper terminated the machine of the killed release');
      await schedule.delete();
    });
  });

  it('a release builds on a machine: the wait is a look per poll interval (no worker slot held, no history growth), then tear-down', async function () {
    const { remote, storage, ec2, client } = await setup('ec2-release');
    const manifest = ec2Manifest({ remote, storage, ec2 }, 'ec2release', [
      { name: 'agent', command: 'sleep 4 && sh build.sh' },
      { name: 'never', command: 'true', timeout: '6s' },
    ]);
    const taskQueue = uniqueTaskQueue('ec2-release');
    const releaseId = `ec2release-${Date.now()}`;
    // Plays EC2 for the agent machine only: the other never reports.
    const player = playMachines(client, 250, (tags) => tags['relflow:artifact'] === 'agent');
    await withWorkers({ taskQueue, env: ENV }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: releaseId,
        args: [{ manifest, kind: 'nightly', date: '20261125', buildTaskQueue: `${taskQueue}-builds` }],
      });
      for (let waited = 0; (await handle.query(releaseStateQuery)).status !== 'blocked' && waited < 90_000; waited += 250)
        await new Promise((resolve) => setTimeout(resolve, 250));
      const state = await handle.query(releaseStateQuery);
      assert.equal(state.status, 'blocked');
      assert.deepEqual(
        state.artifacts.find((artifact) => artifact.name === 'agent')?.files?.map((file) => file.file),
        ['agent.tar.gz'],
      );
      assert.match(state.blocked?.error ?? '', /never: machine i-[0-9a-f]+ reported nothing within 6s/);
      const history = await testClient().workflow.getHandle(`${handle.workflowId}/artifact/agent`).fetchHistory();
      assert.ok((history.events?.length ?? 0) < 40, `the agent's wait of several polls left ${history.events?.length} events`);
      await handle.signal('operator', { action: 'abort', by: 'test' });
      await handle.result();
    });
    await player.stop();
    const alive = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:relflow:release', Values: [releaseId] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
      }),
    );
    const ours = (alive.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
    assert.deepEqual(ours, [], 'both machines were torn down');
    const machines = await instancesOf(client, releaseId);
    assert.ok(machines.length >= 2);
    for (const machine of machines) {
      assert.equal(
        machine.Tags?.find((tag) => tag.Key === 'relflow:installation')?.Value,
        'default/ec2release',
        'tagged with <namespace>/<installation>',
      );
    }
  });

  it('cancelling a release leaves no machine running', async function () {
    const { remote, storage, ec2, client } = await setup('ec2-cancel');
    const manifest = ec2Manifest({ remote, storage, ec2 }, 'ec2cancel', [{ name: 'agent', command: 'sh build.sh' }]);
    const taskQueue = uniqueTaskQueue('ec2');
    await withWorkers({ taskQueue, env: ENV }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `ec2cancel-${Date.now()}`,
        args: [{ manifest, kind: 'nightly', date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
      });
      for (let attempt = 0; attempt < 300 && (await instancesOf(client, handle.workflowId)).length === 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal((await instancesOf(client, handle.workflowId))[0]?.State?.Name, 'running');
      await handle.cancel();
      await assert.rejects(handle.result());
      assert.equal((await handle.query(releaseStateQuery)).status, 'cancelled');
      assert.deepEqual(
        (await instancesOf(client, handle.workflowId)).map((instance) => instance.State?.Name),
        ['terminated'],
      );
    });
  });
});
