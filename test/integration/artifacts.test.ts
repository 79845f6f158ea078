import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { releaseWorkflow } from '../../src/workflows';
import type { ReleaseState } from '../../src/release/model';
import { createRemote } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

describe('artifacts of a release started again (local builder, moto S3, directory mirror)', function () {
  this.timeout(180_000);

  it('reuses a build of the same commit that is still stored everywhere, and rebuilds what a target lost', async function () {
    const root = tempDir('reuse');
    const builds = join(root, 'builds.log');
    const remote = createRemote(root, {
      name: 'ui',
      files: {
        'setup.py': "setup(name='ui', version='3.3')\n",
        'build.sh': `set -e\necho built >> '${builds}'\ntar --mtime=2020-01-01 -cf - setup.py | gzip -n > ui.tgz\n`,
      },
    });
    const endpoint = await motoEndpoint();
    const mirror = join(root, 'tarzan');
    const storage = {
      bucket: 'reuse-builds',
      endpoint,
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
      mirrors: [{ type: 'directory' as const, name: 'tarzan', path: mirror }],
    };
    const s3 = s3Client({ ...storage, region: 'us-east-1' }, { ...process.env, ...MOTO_ENV });
    await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
    const manifest = validateManifest(
      {
        product: 'reuse',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [{ name: 'ui', url: remote }],
        artifacts: [{ name: 'ui', repository: 'ui', command: 'sh build.sh', outputs: ['ui.tgz'] }],
        storage,
      },
      'reuse manifest',
    );
    const taskQueue = uniqueTaskQueue('reuse');
    const run = (workflowId: string): Promise<ReleaseState> =>
      // The build counts itself in a file beside the test, outside its build directory: the sandbox would keep that write.
      withWorkers(
        { taskQueue, workspaceDir: join(root, 'workspace'), env: { ...process.env, ...MOTO_ENV, RELFLOW_SANDBOX: 'none' } },
        async () => {
          const handle = await testClient().workflow.start(releaseWorkflow, {
            taskQueue,
            workflowId,
            args: [{ manifest, kind: 'nightly', date: '20261125', buildTaskQueue: `${taskQueue}-builds` }],
          });
          return handle.result();
        },
      );
    const artifactOf = (state: ReleaseState) => state.artifacts.find((artifact) => artifact.name === 'ui');
    const buildCount = () => readFileSync(builds, 'utf8').trim().split('\n').length;

    const first = await run(`reuse-${Date.now()}-1`);
    assert.equal(first.status, 'succeeded');
    assert.equal(buildCount(), 1);

    // Started again for the same names, with its artifacts.json gone (so not the whole release found done, which
    // test/releasedWork.test.ts covers): the tag is the same commit, the build is still stored.
    await s3.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: 'org/reuse/nightly/20261125/artifacts.json' }));
    const again = await run(`reuse-${Date.now()}-2`);
    assert.equal(again.status, 'succeeded');
    assert.equal(buildCount(), 1, 'nothing was built again');
    assert.match(artifactOf(again)?.detail ?? '', /still stored: not rebuilt/);
    assert.equal(artifactOf(again)?.machineId, 'none', 'no machine was provisioned');
    assert.deepEqual(artifactOf(again)?.files, artifactOf(first)?.files);

    // The mirror lost the file: the build runs again and puts it back.
    rmSync(join(mirror, 'org/reuse/nightly/20261125/ui.tgz'));
    const repaired = await run(`reuse-${Date.now()}-3`);
    assert.equal(repaired.status, 'succeeded');
    assert.equal(buildCount(), 2);
    assert.equal(artifactOf(repaired)?.files?.[0].sha256, artifactOf(first)?.files?.[0].sha256);
    assert.ok(readFileSync(join(mirror, 'org/reuse/nightly/20261125/ui.tgz')).length > 0);
  });
});
