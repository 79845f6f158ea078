import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../../src/config/manifest';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { createSpecsActivities } from '../../src/activities/specs';
import { s3Client, storeFile } from '../../src/activities/storage';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { createRemote, git } from '../support/gitRepos';
import { tempDir } from '../support/temporal';

type Storage = NonNullable<Manifest['storage']>;
const env = { ...process.env, ...MOTO_ENV };

/** A versioned bucket (every replaced object would show as a second version) with a directory mirror. */
async function publishedStorage(bucket: string, mirror: string): Promise<Storage> {
  const storage: Storage = {
    bucket,
    region: 'us-east-1',
    endpoint: await motoEndpoint(),
    accessKeyIdEnv: 'TEST_AWS_KEY',
    secretAccessKeyEnv: 'TEST_AWS_SECRET',
    layout: 'org/{{ product }}/{{ file }}',
    nightlyLayout: 'org/{{ product }}/nightly/{{ file }}',
    specLayout: 'spec/{{ spec_name }}/{{ yaml_version }}/{{ file }}',
    md5: false,
    firstBuildNumber: 1,
    mirrors: [{ type: 'directory', name: 'tarzan', path: mirror }],
  };
  const client = s3Client(storage, env);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return storage;
}

async function versionsOf(storage: Storage, key: string): Promise<number> {
  const listing = await s3Client(storage, env).send(new ListObjectVersionsCommand({ Bucket: storage.bucket, Prefix: key }));
  return (listing.Versions ?? []).filter((version) => version.Key === key).length;
}

async function bodyOf(storage: Storage, key: string): Promise<string | undefined> {
  const response = await s3Client(storage, env).send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }));
  return response.Body?.transformToString();
}

function isReplacementRefusal(key: string, owner: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'PublishedFileReplaced');
    assert.equal(error.nonRetryable, true);
    assert.ok(error.message.includes(key), error.message);
    assert.ok(error.message.includes(owner), error.message);
    return true;
  };
}

describe('a published file keeps its bytes: no release replaces what another release stored', function () {
  this.timeout(120_000);

  it("refuses a patch's other bytes at a GA's key on every target, keeps equal bytes, and lets a release rewrite its own key", async function () {
    const dir = tempDir('published-storage');
    const mirror = join(dir, 'tarzan');
    const storage = await publishedStorage('published-releases', mirror);
    const key = 'spec/script-plugin/1.3/plugin.yaml';
    const ga = join(dir, 'ga-plugin.yaml');
    writeFileSync(ga, 'plugins:\n  script:\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3.zip\n');
    const first = await storeFile({ storage, release: 'cloudify-3.3', name: 'cloudify-script-plugin/plugin.yaml', key, path: ga }, env);
    const head = await s3Client(storage, env).send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
    assert.equal(head.Metadata?.release, 'cloudify-3.3', 'the bucket records which release stored the key');

    const patch = join(dir, 'patch-plugin.yaml');
    writeFileSync(
      patch,
      'plugins:\n  script:\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/3.3-patch1.zip\n',
    );
    await assert.rejects(
      storeFile({ storage, release: 'cloudify-3.3.1', name: 'cloudify-script-plugin/plugin.yaml', key, path: patch }, env),
      isReplacementRefusal(key, 'cloudify-3.3'),
    );
    // Nothing of the patch reached any target: one version of the file and of its sidecar, the mirror's file the GA's.
    assert.equal(await versionsOf(storage, key), 1);
    assert.equal(await versionsOf(storage, `${key}.sha256`), 1);
    assert.equal(await bodyOf(storage, key), readFileSync(ga, 'utf8'));
    assert.equal(readFileSync(join(mirror, key), 'utf8'), readFileSync(ga, 'utf8'));
    assert.ok(readFileSync(join(mirror, `${key}.sha256`), 'utf8').startsWith(first.sha256));

    // The patch's plugin.yaml unchanged from the GA's: the GA's file serves it, nothing is written and the owner stays.
    const same = join(dir, 'same-plugin.yaml');
    writeFileSync(same, readFileSync(ga));
    const held = await storeFile({ storage, release: 'cloudify-3.3.1', name: 'cloudify-script-plugin/plugin.yaml', key, path: same }, env);
    assert.deepEqual(held.skipped, ['storage', 'tarzan']);
    assert.equal(held.sha256, first.sha256);
    assert.equal(await versionsOf(storage, key), 1);
    const after = await s3Client(storage, env).send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
    assert.equal(after.Metadata?.release, 'cloudify-3.3');
    assert.equal(readFileSync(join(mirror, '.relflow', 'releases', key), 'utf8'), 'cloudify-3.3\n');

    // A release's own key takes its new bytes (a rebuild in a retry that is not reproducible).
    const own = 'org/cloudify/3.3.1/ga-RELEASE/cloudify-ui.tgz';
    await storeFile({ storage, release: 'cloudify-3.3.1', name: 'ui', key: own, path: ga }, env);
    const rebuilt = await storeFile({ storage, release: 'cloudify-3.3.1', name: 'ui', key: own, path: patch }, env);
    assert.deepEqual(rebuilt.skipped, []);
    assert.equal(await bodyOf(storage, own), readFileSync(patch, 'utf8'));
    assert.equal(readFileSync(join(mirror, own), 'utf8'), readFileSync(patch, 'utf8'));
  });

  it('refuses to replace an object no release recorded (stored by hand or before releases were recorded), on S3 and on a mirror', async function () {
    const dir = tempDir('published-foreign');
    const mirror = join(dir, 'tarzan');
    const storage = await publishedStorage('foreign-releases', mirror);
    const key = 'org/cloudify/3.2.0/ga-RELEASE/cloudify-ui.tgz';
    await s3Client(storage, env).send(new PutObjectCommand({ Bucket: storage.bucket, Key: key, Body: 'published by hand\n' }));
    const path = join(dir, 'ui.tgz');
    writeFileSync(path, 'other bytes\n');
    await assert.rejects(
      storeFile({ storage, release: 'cloudify-3.2', name: 'ui', key, path }, env),
      (error: ApplicationFailure) => error.type === 'PublishedFileReplaced' && /no release recorded as its own/.test(error.message),
    );
    assert.equal(await bodyOf(storage, key), 'published by hand\n');

    // Only the mirror holds a file at a new key: refused there too, before the bucket is written.
    const mirrorOnly = 'org/cloudify/3.2.1/ga-RELEASE/cloudify-ui.tgz';
    const mirrored = join(mirror, mirrorOnly);
    mkdirSync(dirname(mirrored), { recursive: true });
    writeFileSync(mirrored, 'a mirror file of its own\n');
    await assert.rejects(
      storeFile({ storage, release: 'cloudify-3.2.1', name: 'ui', key: mirrorOnly, path }, env),
      (error: ApplicationFailure) => error.type === 'PublishedFileReplaced' && error.message.includes('storage (tarzan)'),
    );
    assert.equal(await versionsOf(storage, mirrorOnly), 0, 'the bucket was not written either');
    assert.equal(readFileSync(mirrored, 'utf8'), 'a mirror file of its own\n');
  });

  it('the specs stage activity of a patch does not replace the GA spec read from its own commit (real git, moto)', async function () {
    const dir = tempDir('published-specs');
    const mirror = join(dir, 'tarzan');
    const storage = await publishedStorage('published-specs', mirror);
    const gaYaml = 'plugins:\n  script:\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3.zip\n';
    const url = createRemote(dir, {
      name: 'cloudify-script-plugin',
      files: { 'plugin.yaml': gaYaml },
      branches: {
        '3.3-patch1': {
          'plugin.yaml':
            'plugins:\n  script:\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/3.3-patch1.zip\n',
        },
      },
    });
    const specs = createSpecsActivities(new GitWorkspace(join(dir, 'workspace')), env);
    const repository = {
      name: 'cloudify-script-plugin',
      url,
      mainBranch: 'master',
      baseBranch: 'master',
      buildBranch: 'master',
      stream: 'plugins' as const,
      version: '1.3',
    };
    const key = 'spec/script-plugin/1.3/plugin.yaml';
    const spec = (sha: string) => [{ repository, sha, path: 'plugin.yaml', key }];
    const [stored] = await specs.uploadSpecs({
      releaseId: 'cloudify-3.3',
      release: 'cloudify-3.3',
      storage,
      files: spec(git(url, 'rev-parse', 'master')),
    });
    await assert.rejects(
      specs.uploadSpecs({
        releaseId: 'cloudify-3.3.1',
        storage,
        files: spec(git(url, 'rev-parse', '3.3-patch1')),
      }),
      isReplacementRefusal(key, 'cloudify-3.3'),
    );
    assert.equal(await versionsOf(storage, key), 1);
    assert.equal(await bodyOf(storage, key), gaYaml);
    assert.equal(readFileSync(join(mirror, key), 'utf8'), gaYaml);
    // A patch whose plugin.yaml is the GA's records the GA's file.
    const [again] = await specs.uploadSpecs({
      releaseId: 'cloudify-3.3.1',
      release: 'cloudify-3.3.1',
      storage,
      files: spec(git(url, 'rev-parse', 'master')),
    });
    assert.deepEqual(again, stored);
  });
});
