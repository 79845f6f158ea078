import { strict as assert } from 'node:assert';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { Manifest } from '../../src/config/manifest';
import { isStoredEverywhere, s3Client, storeFile } from '../../src/activities/storage';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStorageActivities } from '../../src/activities/storage';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import { tempDir } from '../support/temporal';

type Storage = NonNullable<Manifest['storage']>;

async function storageOn(bucket: string, mirrors: Storage['mirrors'] = [], md5 = false): Promise<Storage> {
  const endpoint = await motoEndpoint();
  const storage: Storage = {
    bucket,
    region: 'us-east-1',
    endpoint,
    accessKeyIdEnv: 'TEST_AWS_KEY',
    secretAccessKeyEnv: 'TEST_AWS_SECRET',
    layout: 'org/{{ product }}/{{ file }}',
    nightlyLayout: 'org/{{ product }}/nightly/{{ file }}',
    specLayout: 'spec/{{ spec_name }}/{{ yaml_version }}/{{ file }}',
    md5,
    firstBuildNumber: 1,
    mirrors,
  };
  await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(new CreateBucketCommand({ Bucket: bucket }));
  return storage;
}

async function writeBigFile(path: string, mib: number): Promise<string> {
  const hash = createHash('sha256');
  const stream = createWriteStream(path);
  const block = Buffer.alloc(1024 * 1024);
  for (let index = 0; index < mib; index += 1) {
    block.fill(index % 251);
    block.writeUInt32LE(index, 0);
    hash.update(block);
    if (!stream.write(block)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => stream.end(() => resolve()));
  return hash.digest('hex');
}

describe('storage on moto S3 and directory mirrors', function () {
  this.timeout(300_000);

  it('a retry after a crash between a file and its sidecar writes the sidecar and nothing twice (versioned bucket)', async function () {
    const dir = tempDir('storage-sidecar');
    const path = join(dir, 'agent.tar.gz');
    writeFileSync(path, 'agent bytes\n');
    const mirror = join(dir, 'tarzan');
    const storage = await storageOn('sidecar-releases', [{ type: 'directory', name: 'tarzan', path: mirror }]);
    const client = s3Client(storage, { ...process.env, ...MOTO_ENV });
    await client.send(new PutBucketVersioningCommand({ Bucket: 'sidecar-releases', VersioningConfiguration: { Status: 'Enabled' } }));
    const key = 'org/demo/3.4.0/ga-RELEASE/agent.tar.gz';
    await storeFile({ storage, release: 'demo-3.4', name: 'agent', key, path }, { ...process.env, ...MOTO_ENV });
    // The crash: the files are stored, their sidecars are not.
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: 'sidecar-releases' }));
    const sidecar = versions.Versions?.find((version) => version.Key === `${key}.sha256`);
    await client.send(new DeleteObjectCommand({ Bucket: 'sidecar-releases', Key: `${key}.sha256`, VersionId: sidecar?.VersionId }));
    rmSync(join(mirror, `${key}.sha256`));
    const retried = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key, path }, { ...process.env, ...MOTO_ENV });
    assert.deepEqual(retried.skipped, ['storage', 'tarzan'], 'the files themselves are not stored again');
    const expected = `${createHash('sha256').update('agent bytes\n').digest('hex')}  agent.tar.gz\n`;
    assert.equal(readFileSync(join(mirror, `${key}.sha256`), 'utf8'), expected);
    const body = await (
      await client.send(new GetObjectCommand({ Bucket: 'sidecar-releases', Key: `${key}.sha256` }))
    ).Body?.transformToString();
    assert.equal(body, expected);
    // A third run writes nothing: one version of each key.
    await storeFile({ storage, release: 'demo-3.4', name: 'agent', key, path }, { ...process.env, ...MOTO_ENV });
    const after = await client.send(new ListObjectVersionsCommand({ Bucket: 'sidecar-releases' }));
    assert.deepEqual((after.Versions ?? []).map((version) => version.Key).sort(), [key, `${key}.sha256`]);
  });

  it('uploads a 100 MiB file in parts with its sha256, and skips it when it is already there', async function () {
    const dir = tempDir('storage-big');
    const path = join(dir, 'agent.tar.gz');
    const sha256 = await writeBigFile(path, 100);
    const mirror = join(dir, 'tarzan');
    const storage = await storageOn('big-releases', [{ type: 'directory', name: 'tarzan', path: mirror }], true);
    const key = 'org/demo/3.4.0/ga-RELEASE/agent.tar.gz';
    const first = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key, path }, { ...process.env, ...MOTO_ENV });
    assert.equal(first.sha256, sha256);
    assert.equal(first.size, 100 * 1024 * 1024);
    assert.deepEqual(first.skipped, []);
    const client = s3Client(storage, { ...process.env, ...MOTO_ENV });
    const head = await client.send(new HeadObjectCommand({ Bucket: 'big-releases', Key: key }));
    assert.equal(head.ContentLength, 100 * 1024 * 1024);
    assert.equal(head.Metadata?.sha256, sha256);
    assert.equal(/-(\d+)"?$/.exec(head.ETag ?? '')?.[1], '7', 'a multipart upload in 16 MiB parts');
    const checksum = await client.send(new GetObjectCommand({ Bucket: 'big-releases', Key: `${key}.sha256` }));
    assert.equal(await checksum.Body?.transformToString(), `${sha256}  agent.tar.gz\n`);
    assert.ok(existsSync(join(mirror, key)) && existsSync(join(mirror, `${key}.md5`)));
    assert.deepEqual(first.urls, [`${storage.endpoint}/big-releases/${key}`, `file://${join(mirror, key)}`]);

    const again = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key, path }, { ...process.env, ...MOTO_ENV });
    assert.deepEqual(again.skipped, ['storage', 'tarzan'], 'nothing uploaded twice');
  });

  it('copies bytes the bucket holds under another key inside the bucket: the next nightly of an unchanged build sends nothing', async function () {
    const dir = tempDir('storage-copy');
    const path = join(dir, 'agent.tar.gz');
    const sha256 = await writeBigFile(path, 3);
    const direct = await storageOn('copy-releases');
    // In front of moto, a proxy that counts the bytes sent to S3.
    const upstream = new URL(direct.endpoint as string);
    let sent = 0;
    const proxy = createServer((request, response) => {
      request.on('data', (chunk: Buffer) => (sent += chunk.length));
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const storage = { ...direct, endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
      const env = { ...process.env, ...MOTO_ENV };
      const client = s3Client(direct, env);
      const yesterday = 'org/demo/nightly/20260101/agent 3.5+dev.tar.gz';
      const first = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key: yesterday, path }, env);
      assert.deepEqual([first.copied, first.skipped], [[], []]);
      assert.ok(sent >= 3 * 1024 * 1024, `the first nightly sends the file (${sent} bytes)`);

      sent = 0;
      const today = 'org/demo/nightly/20260102/agent 3.5+dev.tar.gz';
      const second = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key: today, path }, env);
      assert.deepEqual([second.copied, second.skipped], [['storage'], []]);
      assert.ok(sent < 16 * 1024, `the second sends a copy request, not the file (${sent} bytes)`);
      const head = await client.send(new HeadObjectCommand({ Bucket: 'copy-releases', Key: today }));
      assert.deepEqual([head.ContentLength, head.Metadata?.sha256], [3 * 1024 * 1024, sha256]);
      const body = await (await client.send(new GetObjectCommand({ Bucket: 'copy-releases', Key: today }))).Body?.transformToByteArray();
      assert.equal(
        createHash('sha256')
          .update(body as Uint8Array)
          .digest('hex'),
        sha256,
      );
      const sidecar = await client.send(new GetObjectCommand({ Bucket: 'copy-releases', Key: `${today}.sha256` }));
      assert.equal(await sidecar.Body?.transformToString(), `${sha256}  agent 3.5+dev.tar.gz\n`);

      // The index is a hint: once neither key holds those bytes any more, the file is sent again.
      for (const key of [yesterday, today]) {
        await client.send(
          new PutObjectCommand({ Bucket: 'copy-releases', Key: key, Body: 'other bytes', Metadata: { sha256: 'cd'.repeat(32) } }),
        );
      }
      sent = 0;
      const third = await storeFile(
        { storage, release: 'demo-3.4', name: 'agent', key: 'org/demo/nightly/20260103/agent.tar.gz', path },
        env,
      );
      assert.deepEqual(third.copied, []);
      assert.ok(sent >= 3 * 1024 * 1024, `a stale index entry is not copied from (${sent} bytes sent)`);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it("a writer of the bucket cannot pass foreign bytes as the release's: S3's checksum decides, never x-amz-meta-sha256", async function () {
    const dir = tempDir('storage-planted');
    const path = join(dir, 'agent.tar.gz');
    const sha256 = await writeBigFile(path, 3);
    const trojan = Buffer.alloc(3 * 1024 * 1024, 0x54);
    const storage = await storageOn('planted-releases');
    const env = { ...process.env, ...MOTO_ENV };
    const client = s3Client(storage, env);
    const plant = (key: string, release = 'demo-3.4') =>
      client.send(
        new PutObjectCommand({
          Bucket: 'planted-releases',
          Key: key,
          Body: trojan,
          Metadata: { sha256, release },
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    const bytesAt = async (key: string) =>
      createHash('sha256')
        .update(
          (await (
            await client.send(new GetObjectCommand({ Bucket: 'planted-releases', Key: key }))
          ).Body?.transformToByteArray()) as Uint8Array,
        )
        .digest('hex');

    // A content index entry that names a planted object claiming the release's sha256: nothing is copied from it.
    await plant('planted/agent.tar.gz');
    await client.send(
      new PutObjectCommand({ Bucket: 'planted-releases', Key: `.relflow/content/sha256/${sha256}`, Body: 'planted/agent.tar.gz\n' }),
    );
    const indexed = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key: 'org/demo/3.4/agent.tar.gz', path }, env);
    assert.deepEqual([indexed.copied, indexed.skipped], [[], []]);
    assert.equal(await bytesAt('org/demo/3.4/agent.tar.gz'), sha256, 'the release sent its own bytes');

    // The release's own key, planted with the same claim: not "already held", replaced by the release's bytes.
    await plant('org/demo/3.4/agent.tar.gz');
    const replanted = await storeFile({ storage, release: 'demo-3.4', name: 'agent', key: 'org/demo/3.4/agent.tar.gz', path }, env);
    assert.deepEqual(replanted.skipped, []);
    assert.equal(await bytesAt('org/demo/3.4/agent.tar.gz'), sha256);
    assert.equal(await isStoredEverywhere(storage, 'org/demo/3.4/agent.tar.gz', { sha256, size: 3 * 1024 * 1024 }, env), true);
    await plant('org/demo/3.4/agent.tar.gz');
    assert.equal(await isStoredEverywhere(storage, 'org/demo/3.4/agent.tar.gz', { sha256, size: 3 * 1024 * 1024 }, env), false);

    // A multipart object (composite checksum) known only by its sha256 is checked by its bytes.
    const big = join(dir, 'box.tar.gz');
    const bigSha256 = await writeBigFile(big, 20);
    await storeFile({ storage, release: 'demo-3.4', name: 'box', key: 'org/demo/3.4/box.tar.gz', path: big }, env);
    assert.equal(await isStoredEverywhere(storage, 'org/demo/3.4/box.tar.gz', { sha256: bigSha256, size: 20 * 1024 * 1024 }, env), true);
    await client.send(
      new PutObjectCommand({
        Bucket: 'planted-releases',
        Key: 'org/demo/3.4/box.tar.gz',
        Body: Buffer.alloc(20 * 1024 * 1024, 0x54),
        Metadata: { sha256: bigSha256, release: 'demo-3.4' },
      }),
    );
    assert.equal(await isStoredEverywhere(storage, 'org/demo/3.4/box.tar.gz', { sha256: bigSha256, size: 20 * 1024 * 1024 }, env), false);
  });

  it('keeps connections alive across calls: twenty looks at stored files open one connection, not twenty', async function () {
    // moto closes every connection (Connection: close), as S3 does not: an S3 endpoint that keeps them open and counts them.
    let connections = 0;
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(404, { 'content-type': 'application/xml', 'content-length': '0' }).end();
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const storage = {
        ...(await storageOn(`keepalive-${Date.now()}`)),
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        mirrors: [],
      };
      const env = { ...process.env, ...MOTO_ENV };
      for (let index = 0; index < 20; index += 1) {
        assert.equal(await isStoredEverywhere(storage, `missing-${index}`, { sha256: 'ab'.repeat(32), size: 1 }, env), false);
      }
      assert.equal(connections, 1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a mirror that is down is reported by name; the targets that worked keep the file', async function () {
    const dir = tempDir('storage-down');
    const path = join(dir, 'ui.tgz');
    writeFileSync(path, 'ui bytes');
    const blocked = join(dir, 'not-a-directory');
    writeFileSync(blocked, 'a file where the mirror directory should be');
    const storage = await storageOn('down-releases', [{ type: 'directory', name: 'tarzan', path: blocked }]);
    await assert.rejects(
      storeFile({ storage, release: 'demo-3.4', name: 'ui', key: 'org/demo/ui.tgz', path }, { ...process.env, ...MOTO_ENV }),
      /storing org\/demo\/ui\.tgz failed on tarzan: /,
    );
    const listed = await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(new ListObjectsV2Command({ Bucket: 'down-releases' }));
    assert.deepEqual(listed.Contents?.map((object) => object.Key).sort(), ['org/demo/ui.tgz', 'org/demo/ui.tgz.sha256']);
  });

  it('names a missing credential variable instead of uploading anonymously', async function () {
    const storage = await storageOn('creds-releases');
    const dir = tempDir('creds');
    writeFileSync(join(dir, 'x'), 'x');
    await assert.rejects(
      storeFile({ storage, release: 'demo-3.4', name: 'x', key: 'x', path: join(dir, 'x') }, { RELFLOW_SECRETS: TEST_SECRETS_FILE }),
      /storage\.accessKeyIdEnv: environment variable TEST_AWS_KEY is not set on the worker/,
    );
  });

  it('artifacts.json lists every file with its URLs and sha256', async function () {
    const storage = await storageOn('manifest-releases');
    const files = [{ name: 'ui', file: 'ui.tgz', size: 8, sha256: 'c'.repeat(64), urls: ['http://x/ui.tgz'] }];
    const stored = await createStorageActivities({ ...process.env, ...MOTO_ENV }).publishArtifactsManifest({
      storage,
      key: 'org/demo/artifacts.json',
      releaseId: 'demo-3.4',
      files,
    });
    const body = await (
      await s3Client(storage, { ...process.env, ...MOTO_ENV }).send(
        new GetObjectCommand({ Bucket: 'manifest-releases', Key: 'org/demo/artifacts.json' }),
      )
    ).Body?.transformToString();
    assert.deepEqual(JSON.parse(body ?? '{}'), { release: 'demo-3.4', files });
    assert.equal(stored.file, 'artifacts.json');
  });
});
