import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { writeLoopbackSecretsFile } from '../../src/dev/secretsFile';
import { s3Client } from '../../src/activities/storage';
import { signedByReleaseKey } from '../../src/activities/releaseSigning';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import type { ReleaseState, StoredFile } from '../../src/release/model';
import { releaseWorkflow } from '../../src/workflows';
import { createRemote } from '../support/gitRepos';
import { createTestWorker, tempDir, testClient, uniqueTaskQueue } from '../support/temporal';

const stageStatus = (state: ReleaseState) => Object.fromEntries(state.stages.map((stage) => [stage.name, stage.status]));

describe('a release started again over finished work (real git, moto)', function () {
  this.timeout(180_000);

  async function shortcutProduct(root: string, env: NodeJS.ProcessEnv, buildEnv = env) {
    const build =
      'set -e\necho "$RELFLOW_VERSION $RELFLOW_BUILD" > VERSION.txt\ntar -cf - VERSION.txt | gzip -n > "$RELFLOW_ARTIFACT.tgz"\n';
    const remotes = ['core', 'ui'].map((name) => createRemote(root, { name, files: { 'build.sh': build } }));
    const storage = {
      bucket: `released-${Date.now()}`,
      endpoint: await motoEndpoint(),
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
    };
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
    const release = () =>
      testClient().workflow.execute(releaseWorkflow, {
        taskQueue,
        workflowId,
        args: [{ manifest, kind: 'nightly', date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
      });
    let workflowId = '';
    // The release and build workers each with their own environment (a build worker's secrets file may differ).
    const run = async (id: string): Promise<ReleaseState> => {
      workflowId = id;
      const releaseWorker = await createTestWorker({ taskQueue, workspaceDir: join(root, 'workspace'), env });
      const buildWorker = await createTestWorker({
        taskQueue: `${taskQueue}-builds`,
        workspaceDir: join(root, 'build-workspace'),
        env: buildEnv,
      });
      return buildWorker.runUntil(releaseWorker.runUntil(release()));
    };
    return { remotes, storage, s3, run };
  }

  it('takes every tag and stored file from one look and runs only what is left; a missing file makes it run every stage', async function () {
    const root = tempDir('released-work');
    const { remotes, storage, s3, run } = await shortcutProduct(root, { ...process.env, ...MOTO_ENV });
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

  it('build workers that hold only the public key sign nothing: the release worker signs each build record, and a later run reuses it', async function () {
    const root = tempDir('released-split-keys');
    const key = join(root, 'release-key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'release', '-f', key]);
    const releaseSecrets = writeLoopbackSecretsFile(join(root, 'release-secrets.yaml'), Object.keys(MOTO_ENV), { signingKey: key });
    const buildSecrets = writeLoopbackSecretsFile(join(root, 'build-secrets.yaml'), Object.keys(MOTO_ENV), { publicKey: `${key}.pub` });
    const env = { ...process.env, ...MOTO_ENV, RELFLOW_SECRETS: releaseSecrets };
    const buildEnv = { ...process.env, ...MOTO_ENV, RELFLOW_SECRETS: buildSecrets };
    const { storage, s3, run } = await shortcutProduct(root, env, buildEnv);
    const id = `shortcut-split-${Date.now()}`;
    const first = await run(id);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.stages));
    const prefix = 'org/shortcut/nightly/20261124/';
    const records =
      (await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${prefix}.relflow-builds/` }))).Contents ?? [];
    const record = records.find((object) => object.Key?.startsWith(`${prefix}.relflow-builds/core/`) && object.Key.endsWith('.json'))
      ?.Key as string;
    const text = async (objectKey: string) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: objectKey }))).Body?.transformToString()) ?? '';
    assert.equal(
      await signedByReleaseKey(await text(record), await text(`${record}.sig`), buildEnv, 'relflow-build-record'),
      true,
      'the record is signed by the release key, and the public half alone checks it',
    );
    // One file of ui gone: the next run builds ui again and takes core's signed record, checked by the key-less build worker.
    const ui = first.artifacts.find((artifact) => artifact.name === 'ui')?.files?.[0]?.file as string;
    await s3.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: `${prefix}${ui}` }));
    const again = await run(`${id}-again`);
    assert.equal(again.status, 'succeeded', JSON.stringify(again.stages));
    assert.match(again.artifacts.find((artifact) => artifact.name === 'core')?.detail ?? '', /not rebuilt/);
    assert.doesNotMatch(again.artifacts.find((artifact) => artifact.name === 'ui')?.detail ?? '', /not rebuilt/);
  });

  it("with a release key, neither a planted listing nor a planted build record is taken for the release's: the build runs again", async function () {
    const root = tempDir('released-planted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'release', '-f', join(root, 'release-key')]);
    const secrets = writeLoopbackSecretsFile(join(root, 'secrets.yaml'), Object.keys(MOTO_ENV), { signingKey: join(root, 'release-key') });
    const env = { ...process.env, ...MOTO_ENV, RELFLOW_SECRETS: secrets };
    const { storage, s3, run } = await shortcutProduct(root, env);
    const id = `shortcut-planted-${Date.now()}`;
    const first: ReleaseState = await run(id);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.stages));
    const core = first.artifacts.find((artifact) => artifact.name === 'core')?.files?.[0] as StoredFile;
    const prefix = 'org/shortcut/nightly/20261124/';
    const buildRecord = (
      await s3.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${prefix}.relflow-builds/core/` }))
    ).Contents?.find((object) => object.Key?.endsWith('.json'))?.Key as string;
    assert.ok(buildRecord, 'the build recorded what it stored');

    // A writer of the bucket swaps core's file and rewrites the listing and the build record to match it.
    const trojan = Buffer.from('trojan bytes');
    const trojanSha256 = createHash('sha256').update(trojan).digest('hex');
    // Each object claims to be the release's own (x-amz-meta-release), so the release may rewrite them;
    // a foreign one would block it instead.
    const put = (key: string, body: string | Buffer) =>
      s3.send(
        new PutObjectCommand({
          Bucket: storage.bucket,
          Key: key,
          Body: body,
          Metadata: { release: 'shortcut-nightly-20261124', sha256: core.sha256 },
        }),
      );
    const swap = (text: string) =>
      text.split(core.sha256).join(trojanSha256).split(`"size": ${core.size}`).join(`"size": ${trojan.length}`);
    const read = async (key: string) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }))).Body?.transformToString()) as string;
    await put(`${prefix}${core.file}`, trojan);
    await put(`${prefix}${core.file}.sha256`, `${trojanSha256}  ${core.file}\n`);
    await put(`${prefix}artifacts.json`, swap(await read(`${prefix}artifacts.json`)));
    await put(buildRecord, swap(await read(buildRecord)));

    const again: ReleaseState = await run(`${id}-again`);
    assert.equal(again.status, 'succeeded', JSON.stringify(again.stages));
    assert.doesNotMatch(again.stages.find((stage) => stage.name === 'checkout')?.detail ?? '', /earlier run/);
    assert.doesNotMatch(again.artifacts.find((artifact) => artifact.name === 'core')?.detail ?? '', /not rebuilt/);
    assert.match(
      again.artifacts.find((artifact) => artifact.name === 'ui')?.detail ?? '',
      /not rebuilt/,
      'a record the key signed still serves',
    );
    // The build ran again (its tar has new times, so new bytes): the bucket, the listing and SHA256SUMS hold what it built.
    const rebuilt = again.artifacts.find((artifact) => artifact.name === 'core')?.files?.[0] as StoredFile;
    assert.notEqual(rebuilt.sha256, trojanSha256);
    const stored = await (
      await s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: `${prefix}${core.file}` }))
    ).Body?.transformToByteArray();
    assert.equal(
      createHash('sha256')
        .update(stored as Uint8Array)
        .digest('hex'),
      rebuilt.sha256,
      'the build put its own bytes there',
    );
    assert.match(await read(`${prefix}SHA256SUMS`), new RegExp(`^${rebuilt.sha256}  ${core.file.replace(/\./g, '\\.')}$`, 'm'));
    assert.doesNotMatch(await read(`${prefix}artifacts.json`), new RegExp(trojanSha256));
  });
});
