import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { allocateBuildNumber, buildCounterKey } from '../../src/activities/buildNumbers';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import type { ReleaseState } from '../../src/release/model';
import { releaseWorkflow } from '../../src/workflows';
import { createRemote, git } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

const env = { ...process.env, ...MOTO_ENV };

async function bucketOn(bucket: string) {
  const endpoint = await motoEndpoint();
  const storage = { bucket, endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET' };
  const client = s3Client({ ...storage, region: 'us-east-1' }, env);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { storage, client };
}

async function readText(client: ReturnType<typeof s3Client>, bucket: string, key: string): Promise<string> {
  return (await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString()) ?? '';
}

describe('build numbers: a counter per product in the release bucket (moto S3)', function () {
  this.timeout(180_000);

  it('gives each release the next number once, the same number again on a re-run, and never one number twice under contention', async function () {
    const { storage, client } = await bucketOn(`build-numbers-${Date.now()}`);
    const spec = {
      ...storage,
      region: 'us-east-1',
      layout: '',
      nightlyLayout: '',
      specLayout: '',
      md5: false,
      mirrors: [],
      firstBuildNumber: 273,
    };
    const take = (releaseId: string) => allocateBuildNumber({ storage: spec, product: 'cloudify', releaseId }, env);
    assert.deepEqual(await take('cloudify-3.2m3'), { build: 273, allocated: true });
    assert.deepEqual(await take('cloudify-3.2m4'), { build: 274, allocated: true });
    assert.deepEqual(await take('cloudify-3.2m3'), { build: 273, allocated: false }, 'a re-run keeps its number');
    // Ten releases starting at once: the conditional writes make each wait its turn.
    const concurrent = await Promise.all(Array.from({ length: 10 }, (_, index) => take(`cloudify-nightly-2026112${index}`)));
    assert.deepEqual(
      concurrent.map((result) => result.build).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, index) => 275 + index),
    );
    const counter = JSON.parse(await readText(client, storage.bucket, buildCounterKey('cloudify')));
    assert.equal(counter.next, 285);
    assert.equal(Object.keys(counter.releases).length, 12);
    // Another product counts on its own.
    assert.deepEqual(await allocateBuildNumber({ storage: spec, product: 'other', releaseId: 'other-1.0' }, env), {
      build: 273,
      allocated: true,
    });

    // A counter someone broke is named, not overwritten.
    await client.send(new PutObjectCommand({ Bucket: storage.bucket, Key: buildCounterKey('broken'), Body: '{"next": "many"}' }));
    await assert.rejects(allocateBuildNumber({ storage: spec, product: 'broken', releaseId: 'broken-1.0' }, env), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'InvalidBuildCounter');
      assert.equal(error.nonRetryable, true);
      assert.match(
        error.message,
        new RegExp(`^build counter s3://${storage.bucket}/\\.relflow/build-numbers/broken\\.json: expected \\{"next"`),
      );
      return true;
    });
  });

  it('a release takes its number after the preflight: {{ build }} in version rules, RELFLOW_BUILD in builds, artifacts.json; a re-run keeps it', async function () {
    const root = tempDir('build-number');
    const remote = createRemote(root, {
      name: 'ui',
      files: {
        VERSION: '{\n  "version": "3.4.0",\n  "build": "0"\n}\n',
        'build.sh':
          'set -e\necho "$RELFLOW_VERSION" > out.txt\ntar -cf - out.txt | gzip -n > "ui-${RELFLOW_VERSION}-b${RELFLOW_BUILD}.tgz"\n',
      },
    });
    const { storage, client } = await bucketOn(`build-release-${Date.now()}`);
    const manifest = validateManifest(
      {
        product: 'numbered',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [{ name: 'cloudify-ui', url: remote }],
        versionRules: [
          { preset: 'cloudify-VERSION' },
          {
            description: 'VERSION build',
            type: '^VERSION$',
            match: '"build"\\s*:\\s*"[^"]*"',
            replace: '(?<=:\\s*")[^"]*(?=")',
            with: '{{ build }}',
          },
        ],
        artifacts: [{ name: 'ui', repository: 'cloudify-ui', command: 'sh build.sh', outputs: ['ui-*.tgz'] }],
        storage: { ...storage, firstBuildNumber: 82 },
      },
      'numbered manifest',
    );
    const taskQueue = uniqueTaskQueue('numbered');
    const run = (workflowId: string, version = '3.4m5'): Promise<ReleaseState> =>
      withWorkers({ taskQueue, workspaceDir: join(root, 'workspace'), env }, async () => {
        const handle = await testClient().workflow.start(releaseWorkflow, {
          taskQueue,
          workflowId,
          args: [{ manifest, kind: 'milestone', version, buildTaskQueue: `${taskQueue}-builds` }],
        });
        return handle.result();
      });
    const releaseId = `numbered-3.4m5-${Date.now()}`;
    const first = await run(releaseId);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.stages));
    assert.equal(first.build, 82);
    assert.deepEqual(
      first.artifacts[0].files?.map((file) => file.file),
      ['ui-3.4.0-m5-b82.tgz'],
    );
    assert.match(git(remote, 'show', '3.4m5:VERSION'), /"version": "3\.4\.0-m5",\n {2}"build": "82"/);
    const listing = JSON.parse(await readText(client, storage.bucket, 'org/numbered/3.4.0/m5-RELEASE/artifacts.json'));
    assert.equal(listing.build, 82);
    // Started again under the same release ID, it keeps its number; the next release takes the next one.
    const again = await run(releaseId);
    assert.equal(again.build, 82);
    const next = await run(`${releaseId}-next`, '3.4m6');
    assert.equal(next.build, 83);
    assert.deepEqual(
      next.artifacts[0].files?.map((file) => file.file),
      ['ui-3.4.0-m6-b83.tgz'],
    );
  });
});
