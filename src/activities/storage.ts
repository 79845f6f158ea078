import { ApplicationFailure, Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Manifest } from '../config/manifest';
import type { StoredFile } from '../release/model';
import { heartbeat } from './process';
import { insideRoot, localDirectory, pathSegment } from './paths';
import { awsDestination, readSecret } from './secrets';
import { allocateBuildNumber } from './buildNumbers';

type StorageSpec = NonNullable<Manifest['storage']>;
type S3Spec = Pick<StorageSpec, 'bucket' | 'region' | 'endpoint' | 'accessKeyIdEnv' | 'secretAccessKeyEnv'>;

export type StorageTarget = ({ type: 's3'; name: string; publicUrl: string } & S3Spec) | { type: 'directory'; name: string; path: string };

/** The primary store and every mirror, in order. */
export function storageTargets(storage: StorageSpec): StorageTarget[] {
  const bucketUrl = (spec: S3Spec) =>
    spec.endpoint ? `${spec.endpoint.replace(/\/+$/, '')}/${spec.bucket}` : `https://${spec.bucket}.s3.amazonaws.com`;
  return [
    { type: 's3', name: 'storage', ...storage, publicUrl: (storage.publicUrl ?? bucketUrl(storage)).replace(/\/+$/, '') },
    ...storage.mirrors.map((mirror): StorageTarget => (mirror.type === 'directory' ? mirror : { ...mirror, publicUrl: bucketUrl(mirror) })),
  ];
}

/** S3's answer for a key that holds nothing (the SDK's class, or its name when another copy of the SDK threw it). */
export function isMissingObject(error: unknown): boolean {
  return error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What a file's bytes are, as relflow and S3 name them: the sha256 (hex, as
 * SHA256SUMS writes it, and base64, as S3's ChecksumSHA256 of a single-part
 * object is), and the composite checksum S3 keeps for a multipart upload of
 * PART_SIZE parts (the sha256 of the parts' sha256s).
 */
export interface FileDigest {
  sha256: string;
  size: number;
  checksums: string[];
}

export async function fileDigest(path: string): Promise<FileDigest> {
  const whole = createHash('sha256');
  const parts: Buffer[] = [];
  let part = createHash('sha256');
  let inPart = 0;
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    size += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, PART_SIZE - inPart);
      part.update(chunk.subarray(offset, offset + take));
      offset += take;
      inPart += take;
      if (inPart === PART_SIZE) {
        parts.push(part.digest());
        part = createHash('sha256');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) parts.push(part.digest());
  const digest = whole.digest();
  const checksums = [digest.toString('base64')];
  if (parts.length > 1) checksums.push(createHash('sha256').update(Buffer.concat(parts)).digest('base64'));
  return { sha256: digest.toString('hex'), size, checksums };
}

/** The digest of a file known by its sha256 alone (a stored file's record): its single-part checksum. */
function recordedDigest(file: Pick<StoredFile, 'sha256' | 'size'>): FileDigest {
  return { sha256: file.sha256, size: file.size, checksums: [Buffer.from(file.sha256, 'hex').toString('base64')] };
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The clients of this process by endpoint, region and credentials: one client keeps its connections alive across activities. */
const s3Clients = new Map<string, S3Client>();
const MAX_S3_CLIENTS = 32;

/**
 * The S3 client of a storage target, shared by every call with the same
 * endpoint, region and credentials: its agent keeps connections alive, so a
 * release's many small requests (a HEAD per file, the .sha256 beside each)
 * do not each pay a TCP (and TLS) handshake.
 */
export function s3Client(spec: S3Spec, env: NodeJS.ProcessEnv): S3Client {
  const destination = awsDestination('storage', 's3', spec);
  const accessKeyId = readSecret(env, 'storage.accessKeyIdEnv', spec.accessKeyIdEnv, destination);
  const secretAccessKey = readSecret(env, 'storage.secretAccessKeyEnv', spec.secretAccessKeyEnv, destination);
  // The key holds a digest of the credentials, never the credentials: a rotated secret gets a client of its own.
  const key = createHash('sha256')
    .update(JSON.stringify([spec.region, spec.endpoint, accessKeyId, secretAccessKey]))
    .digest('hex');
  const cached = s3Clients.get(key);
  if (cached) return cached;
  const client = new S3Client({
    region: spec.region,
    endpoint: spec.endpoint,
    forcePathStyle: Boolean(spec.endpoint),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // relflow hashes what it reads where it matters; moto's multipart checksum lacks S3's `-N`, which the SDK would misread.
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  if (s3Clients.size >= MAX_S3_CLIENTS) {
    // Not destroyed: a request may still be on it; its idle connections close with the server's timeout.
    const [oldest] = s3Clients.keys();
    s3Clients.delete(oldest);
  }
  s3Clients.set(key, client);
  return client;
}

const PART_SIZE = 16 * 1024 * 1024;

/**
 * What a key holds. `checksum` is S3's own SHA256 checksum of the bytes (base64,
 * without a multipart `-N` suffix), which S3 computes or checks on upload and no
 * writer can set; `sha256` is a directory file's hash, computed here. The
 * `x-amz-meta-sha256` a writer of the bucket sets at will is never read.
 */
interface HeldObject {
  sha256?: string;
  checksum?: string;
  size?: number;
  /** The release that stored it; absent for an object relflow did not store, or stored before it recorded releases. */
  release?: string;
}

async function s3Object(client: S3Client, bucket: string, key: string): Promise<HeldObject | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    return { checksum: head.ChecksumSHA256?.replace(/-\d+$/, ''), size: head.ContentLength, release: head.Metadata?.release };
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
    throw error;
  }
}

/** Whether a key holds exactly these bytes: by S3's checksum (or the hash of a directory's file) and the size. */
function holdsBytes(held: HeldObject | undefined, digest: FileDigest): boolean {
  if (!held || held.size !== digest.size) return false;
  return held.sha256 !== undefined
    ? held.sha256 === digest.sha256
    : held.checksum !== undefined && digest.checksums.includes(held.checksum);
}

/** The sha256 of an object's bytes, read from S3 (for a multipart object whose composite checksum a record cannot name). */
async function s3ObjectSha256(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const chunk of response.Body as AsyncIterable<Buffer>) hash.update(chunk);
    return hash.digest('hex');
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/**
 * Whether the bucket holds these bytes at `key`: by S3's checksum where it
 * decides, by the bytes themselves where it cannot (an object stored without a
 * checksum, or a multipart one when only the sha256 is known).
 */
async function s3HoldsObject(client: S3Client, bucket: string, key: string, digest: FileDigest): Promise<boolean> {
  return holdsBytesAt(client, bucket, key, await s3Object(client, bucket, key), digest);
}

async function holdsBytesAt(
  client: S3Client,
  bucket: string,
  key: string,
  held: HeldObject | undefined,
  digest: FileDigest,
): Promise<boolean> {
  if (holdsBytes(held, digest)) return true;
  if (!held || held.size !== digest.size) return false;
  const undecided = held.checksum === undefined || (digest.size > PART_SIZE && digest.checksums.length === 1);
  return undecided && (await s3ObjectSha256(client, bucket, key)) === digest.sha256;
}

/** What putting a file on a target came to: already there, copied inside the bucket from equal bytes, or sent. */
type TargetPut = 'held' | 'copied' | 'uploaded';

/**
 * Files at least this large are first looked up by content: a copy inside the
 * bucket costs two small requests, where sending them costs their size in
 * upload bandwidth. Smaller files are sent (the lookup would cost as much).
 */
export const CONTENT_COPY_MIN_SIZE = 1024 * 1024;
/** S3's limit for a single CopyObject; larger files are sent. */
const CONTENT_COPY_MAX_SIZE = 5 * 1024 * 1024 * 1024;

/** Where the bucket records which key holds the bytes with this sha256 (one small object per content). */
export function contentIndexKey(sha256: string): string {
  return `.relflow/content/sha256/${sha256}`;
}

/**
 * A key of this bucket that holds these bytes, from the content index, when S3's
 * checksum of the object there is theirs (an index entry is a hint anyone who
 * writes the bucket can plant: a deleted, rewritten or foreign object is not copied).
 */
async function keyHoldingContent(client: S3Client, bucket: string, digest: FileDigest): Promise<string | undefined> {
  const key = (await getS3Text(client, bucket, contentIndexKey(digest.sha256)))?.trim();
  if (!key || key.length > 1024) return undefined;
  return holdsBytes(await s3Object(client, bucket, key), digest) ? key : undefined;
}

/** `bucket/key` as CopyObject takes it: the key URL-encoded segment by segment. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Puts the file at `key` unless S3 already holds these bytes there. Bytes the
 * bucket holds under another key (yesterday's nightly of an unchanged
 * repository, a Docker image two releases share) are copied inside the bucket
 * instead of sent again, and the copy's checksum is checked; a copy that fails
 * or does not hold the bytes is replaced by sending them.
 */
async function putS3(
  client: S3Client,
  target: { bucket: string; holds: boolean },
  key: string,
  file: { path: string; digest: FileDigest; release: string },
): Promise<TargetPut> {
  const { bucket } = target;
  const { path, digest } = file;
  const { sha256, size } = digest;
  if (target.holds) return 'held';
  const Metadata = { sha256, release: file.release };
  let put: TargetPut = 'uploaded';
  const source =
    size >= CONTENT_COPY_MIN_SIZE && size <= CONTENT_COPY_MAX_SIZE ? await keyHoldingContent(client, bucket, digest) : undefined;
  if (source) {
    // A copy of gigabytes takes a while inside S3: the activity stays alive meanwhile.
    const beat = setInterval(() => heartbeat({ key, copying: source }), 1000);
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: copySource(bucket, source),
          MetadataDirective: 'REPLACE',
          Metadata,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      // The source may have been rewritten since it was checked: the copy counts only if S3 says it holds the bytes.
      if (holdsBytes(await s3Object(client, bucket, key), digest)) put = 'copied';
    } catch {
      // The source went away or the copy is refused: send the bytes, as without an index.
    } finally {
      clearInterval(beat);
    }
  }
  if (put === 'uploaded') {
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: createReadStream(path), Metadata, ChecksumAlgorithm: 'SHA256' },
      partSize: PART_SIZE,
      queueSize: 4,
    });
    upload.on('httpUploadProgress', (progress) => heartbeat({ key, loaded: progress.loaded, total: size }));
    await upload.done();
  }
  if (size >= CONTENT_COPY_MIN_SIZE) await putS3Text(client, bucket, contentIndexKey(sha256), `${key}\n`, true);
  return put;
}

/**
 * A small text object, written only when the bucket does not hold exactly this
 * text: a resumed release neither writes a second version of it nor leaves a
 * sidecar missing because it died between the file and its sidecar.
 */
async function putS3Text(client: S3Client, bucket: string, key: string, body: string, knownStale = false): Promise<void> {
  if (!knownStale && (await getS3Text(client, bucket, key)) === body) return;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }));
}

async function getS3Text(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await response.Body?.transformToString('utf8');
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/** The same for a directory target. */
async function writeDirectoryText(path: string, body: string): Promise<void> {
  if ((await readFile(path, 'utf8').catch(() => undefined)) === body) return;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.partial`, body);
  await rename(`${path}.partial`, path);
}

/**
 * Where a key lives in a directory target: the directory must be inside the
 * worker's local roots, and the key (a rendered layout) inside the directory.
 */
export function directoryPath(target: { name: string; path: string }, key: string, env: NodeJS.ProcessEnv): string {
  const root = localDirectory(env, target.path, `storage (${target.name}).path`);
  return insideRoot(root, key, `storage (${target.name}): key`);
}

/** Where a directory target records which release stored the file at `key` (S3 keeps it in the object's metadata). */
function directoryOwnerPath(target: { name: string; path: string }, key: string, env: NodeJS.ProcessEnv): string {
  const root = localDirectory(env, target.path, `storage (${target.name}).path`);
  return insideRoot(root, `.relflow/releases/${key}`, `storage (${target.name}): key`);
}

async function directoryObject(
  target: { name: string; path: string },
  key: string,
  env: NodeJS.ProcessEnv,
): Promise<HeldObject | undefined> {
  const path = directoryPath(target, key, env);
  if (!existsSync(path)) return undefined;
  const release = (await readFile(directoryOwnerPath(target, key, env), 'utf8').catch(() => '')).trim();
  return { sha256: await sha256File(path), size: (await stat(path)).size, release: release || undefined };
}

async function putDirectory(
  target: { name: string; path: string; held: HeldObject | undefined },
  key: string,
  file: { path: string; sha256: string; release: string },
  env: NodeJS.ProcessEnv,
): Promise<TargetPut> {
  if (target.held?.sha256 === file.sha256) return 'held';
  const path = directoryPath(target, key, env);
  // The release is recorded before the file: a crash in between leaves no file of unknown origin.
  await writeDirectoryText(directoryOwnerPath(target, key, env), `${file.release}\n`);
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  await copyFile(file.path, partial);
  await rename(partial, path);
  return 'uploaded';
}

/**
 * Refuses to replace a file another release stored: a published file keeps
 * its bytes for good (a patch must not change what a GA's blueprints import).
 * The same release may store other bytes at its own key (a rebuild in a retry).
 */
function refuseReplacing(targetName: string, key: string, held: HeldObject, file: { sha256: string; release: string }): never {
  const by = held.release ? `release ${held.release} published` : 'a file no release recorded as its own is';
  throw ApplicationFailure.nonRetryable(
    `storage (${targetName}): ${key}: ${by} there (${held.sha256 ? `sha256 ${held.sha256.slice(0, 12)}` : `S3 checksum ${held.checksum ?? 'none'}`}); ` +
      `release ${file.release} would replace it with other bytes (sha256 ${file.sha256.slice(0, 12)}). ` +
      'A release never replaces a file another release published: give this release its own key ' +
      '(storage.layout, storage.specLayout, or a new --plugins-version for plugins that changed)',
    'PublishedFileReplaced',
  );
}

/** An object of the primary store as a stream, or undefined when there is none. */
export async function openStoredObject(storage: S3Spec, key: string, env: NodeJS.ProcessEnv): Promise<Readable | undefined> {
  try {
    const response = await s3Client(storage, env).send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }));
    return response.Body as Readable;
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/** A small text object on the primary store, or undefined when there is none. */
export async function readStoredText(storage: S3Spec, key: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const body = await openStoredObject(storage, key, env);
  if (!body) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function writeStoredText(storage: S3Spec, key: string, body: string, env: NodeJS.ProcessEnv): Promise<void> {
  await putS3Text(s3Client(storage, env), storage.bucket, key, body);
}

/** Whether every target (the store and each mirror) holds the object at `key` with these bytes. */
export async function isStoredEverywhere(
  storage: StorageSpec,
  key: string,
  file: Pick<StoredFile, 'sha256' | 'size'>,
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  for (const target of storageTargets(storage)) {
    if (target.type === 's3') {
      if (!(await s3HoldsObject(s3Client(target, env), target.bucket, key, recordedDigest(file)))) return false;
    } else {
      const path = directoryPath(target, key, env);
      if (!existsSync(path) || (await stat(path)).size !== file.size) return false;
      const sidecar = await readFile(`${path}.sha256`, 'utf8').catch(() => '');
      if (!sidecar.startsWith(file.sha256)) return false;
    }
  }
  return true;
}

/** relflow_uploaded_bytes on the worker's metrics endpoint; nothing outside an activity (the bench, a test calling storeFile). */
function countUploadedBytes(bytes: number, target: string): void {
  let meter;
  try {
    meter = Context.current().metricMeter;
  } catch {
    return;
  }
  meter.createCounter('relflow_uploaded_bytes', 'bytes', 'bytes stored, by storage target').add(bytes, { target });
}

export interface StoreFileInput {
  storage: StorageSpec;
  /**
   * The release storing the file, as its plan names it (`<product>-<release name>`, the same for every run of it):
   * recorded with the file, and the only release that may store other bytes at its key.
   */
  release: string;
  /** The artifact (or spec) name, for artifacts.json. */
  name: string;
  key: string;
  path: string;
}

export interface StoreFileResult extends StoredFile {
  /** Targets that already held the same bytes. */
  skipped: string[];
  /** S3 targets that held the same bytes under another key and copied them there (nothing sent). */
  copied: string[];
}

/**
 * Stores one file with a `.sha256` beside it (and `.md5` when asked) on the
 * primary store and every mirror. A target that already holds the same bytes
 * is skipped, so a resumed release uploads only what is missing. A key that
 * holds other bytes of another release is refused on every target before any
 * is written. A target that fails is named in the error; the others keep what
 * they received.
 */
export async function storeFile(input: StoreFileInput, env: NodeJS.ProcessEnv): Promise<StoreFileResult> {
  const digest = await fileDigest(input.path);
  const { sha256, size } = digest;
  const md5 = input.storage.md5 ? await md5File(input.path) : undefined;
  const file = { path: input.path, digest, sha256, release: pathSegment(input.release, 'storage: release') };
  const fileName = input.key.slice(input.key.lastIndexOf('/') + 1);
  const urls: string[] = [];
  const skipped: string[] = [];
  const copied: string[] = [];
  const failures: string[] = [];
  const targets = await Promise.all(
    storageTargets(input.storage).map(async (target) => {
      let held: HeldObject | undefined;
      let holds: boolean;
      if (target.type === 's3') {
        const client = s3Client(target, env);
        held = await s3Object(client, target.bucket, input.key);
        holds = await holdsBytesAt(client, target.bucket, input.key, held, digest);
      } else {
        held = await directoryObject(target, input.key, env);
        holds = held?.sha256 === sha256;
      }
      if (held && !holds && held.release !== file.release) refuseReplacing(target.name, input.key, held, file);
      return { target, held, holds };
    }),
  );
  for (const { target, held, holds } of targets) {
    try {
      let put: TargetPut;
      if (target.type === 's3') {
        const client = s3Client(target, env);
        put = await putS3(client, { bucket: target.bucket, holds }, input.key, file);
        // A file just put needs its sidecars; one already there may lack them (a crash in between).
        await putS3Text(client, target.bucket, `${input.key}.sha256`, `${sha256}  ${fileName}\n`, put !== 'held');
        if (md5) await putS3Text(client, target.bucket, `${input.key}.md5`, `${md5}  ${fileName}\n`, put !== 'held');
        urls.push(`${target.publicUrl}/${input.key}`);
      } else {
        const path = directoryPath(target, input.key, env);
        put = await putDirectory({ ...target, held }, input.key, file, env);
        await writeDirectoryText(`${path}.sha256`, `${sha256}  ${fileName}\n`);
        if (md5) await writeDirectoryText(`${path}.md5`, `${md5}  ${fileName}\n`);
        urls.push(`file://${path}`);
      }
      if (put === 'held') skipped.push(target.name);
      else if (put === 'copied') copied.push(target.name);
      else countUploadedBytes(size, target.name);
    } catch (error) {
      failures.push(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) throw new Error(`storing ${input.key} failed on ${failures.join('; ')}`);
  return { name: input.name, file: fileName, size, sha256, urls, skipped, copied };
}

/** What a release records of a stored file (artifacts.json, the report): not how each target came to hold it. */
export function storedFileOf({ skipped: _skipped, copied: _copied, ...file }: StoreFileResult): StoredFile {
  return file;
}

/** A file relflow writes itself (artifacts.json, SHA256SUMS and its signature), stored like any artifact. */
export async function storeReleaseText(
  storage: StorageSpec,
  release: string,
  name: string,
  key: string,
  body: string | Buffer,
  env: NodeJS.ProcessEnv,
): Promise<StoredFile> {
  const dir = await mkdtemp(join(tmpdir(), 'relflow-release-file-'));
  try {
    const path = join(dir, name);
    await writeFile(path, body);
    return storedFileOf(await storeFile({ storage, release, name, key, path }, env));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createStorageActivities(env: NodeJS.ProcessEnv) {
  return {
    /** The release's build number from the product's counter in the bucket (src/activities/buildNumbers.ts). */
    allocateBuildNumber: (input: { storage: StorageSpec; product: string; releaseId: string }) => allocateBuildNumber(input, env),
    /** artifacts.json: every stored file of the release, beside the artifacts. */
    async publishArtifactsManifest(input: {
      storage: StorageSpec;
      key: string;
      releaseId: string;
      /** The plan's release ID, which owns the file (inputs scheduled before it was sent have the workflow's). */
      release?: string;
      build?: number;
      files: StoredFile[];
    }): Promise<StoredFile> {
      const body = `${JSON.stringify({ release: input.releaseId, build: input.build, files: input.files }, null, 2)}\n`;
      return storeReleaseText(input.storage, input.release ?? input.releaseId, 'artifacts.json', input.key, body, env);
    },
  };
}
