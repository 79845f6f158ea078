import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import type { ReleaseState } from '../../src/release/model';
import { releaseWorkflow } from '../../src/workflows';
import { createRemote } from '../support/gitRepos';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

const stageStatus = (state: ReleaseState) => Object.fromEntries(state.stages.map((stage) => [stage.name, stage.status]));

describe('a release started again over finished work (real git, moto)', function () {
  this.timeout(180_000);

  it('takes every tag and stored file from one look and runs only what is left; a missing file makes it run every stage', async function () {
    const root = tempDir('released-work');
    const build =
      'set -e\necho "$RELFLOW_VERSION $RELFLOW_BUILD" > VERSION.txt\ntar -cf - VERSION.txt | gzip -n > "$RELFLOW_ARTIFACT.tgz"\n';
    const remotes = ['core', 'ui'].map((name) => createRemote(root, { name, files: { 'build.sh': build } }));
    const storage = {
      bucket: `released-${Date.now()}`,
      endpoint: await motoEndpoint(),
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
    };
    const env = { ...process.env, ...MOTO_ENV };
    const s3 = s3Client({ ...storage, region: 'us-east-1' }, env);
    await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
    const manifest = validateManifest(
      {
        product: 'shortcut',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [
          { name: 'core', url: remotes[0] },
          { name: 'ui', url: remotes[1] },
        ],
        artifacts: ['core', 'ui'].map((name) => ({ name, repository: name, command: 'sh build.sh', outputs: [`${name}.tgz`] })),
        storage,
      },
      'shortcut manifest',
    );
    const taskQueue = uniqueTaskQueue('shortcut');
    const run = (workflowId: string) =>
      withWorkers({ taskQueue, workspaceDir: join(root, 'workspace'), env }, async () =>
        (
          await testClient().workflow.start(releaseWorkflow, {
            taskQueue,
            workflowId,
            args: [{ manifest, kind: 'nightly', date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
          })
        ).result(),
      );
    const id = `shortcut-nightly-${Date.now()}`;
    const first: ReleaseState = await run(id);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.stages));
    const commitsOf = () =>
      remotes.map((remote) => execFileSync('git', ['-C', remote, 'rev-list', '--all', '--count'], { encoding: 'utf8' }).trim());
    const commits = commitsOf();

    const again: ReleaseState = await run(`${id}-again`);
    assert.equal(again.status, 'succeeded', JSON.stringify(again.stages));
    assert.match(
      again.stages.find((stage) => stage.name === 'checkout')?.detail ?? '',
      /^every repository tagged and every file stored by an earlier run/,
    );
    assert.deepEqual(
      ['version', 'tag', 'specs', 'artifacts'].map((name) => stageStatus(again)[name]),
      ['skipped', 'skipped', 'skipped', 'skipped'],
    );
    assert.equal(again.build, first.build, "the earlier run's build number, which its files carry");
    assert.deepEqual(
      again.repositories.map((repository) => repository.tagSha),
      first.repositories.map((repository) => repository.tagSha),
    );
    assert.deepEqual(
      again.artifacts.flatMap((artifact) => artifact.files ?? []).map((file) => [file.file, file.sha256]),
      first.artifacts.flatMap((artifact) => artifact.files ?? []).map((file) => [file.file, file.sha256]),
    );
    assert.deepEqual(commitsOf(), commits, 'no commit made');
    assert.deepEqual(again.notes, first.notes, 'the notes the email carries');
    assert.ok((again.notes ?? []).length === 2);
    const history = await testClient().workflow.getHandle(`${id}-again`).fetchHistory();
    const activities = (history.events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    assert.ok(!activities.includes('checkoutRepository') && !activities.includes('versionRepository'), activities.join(', '));
    assert.equal((history.events ?? []).filter((event) => event.startChildWorkflowExecutionInitiatedEventAttributes).length, 0, 'no build');

    // One stored file gone: not finished work; every stage runs, and the one build whose output is missing runs again.
    const missing = first.artifacts.find((artifact) => artifact.name === 'ui')?.files?.[0]?.file as string;
    await s3.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: `org/shortcut/nightly/20261124/${missing}` }));
    const third: ReleaseState = await run(`${id}-third`);
    assert.equal(third.status, 'succeeded', JSON.stringify(third.stages));
    assert.equal(stageStatus(third).artifacts, 'succeeded');
    assert.doesNotMatch(third.stages.find((stage) => stage.name === 'checkout')?.detail ?? '', /earlier run/);
    assert.deepEqual(commitsOf(), commits, 'still no commit made');
    assert.match(third.artifacts.find((artifact) => artifact.name === 'core')?.detail ?? '', /not rebuilt/);
    assert.doesNotMatch(third.artifacts.find((artifact) => artifact.name === 'ui')?.detail ?? '', /not rebuilt/);
  });
});
