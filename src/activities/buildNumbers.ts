import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import type { Manifest } from '../config/manifest';
import { isMissingObject, s3Client } from './storage';

type StorageSpec = NonNullable<Manifest['storage']>;

/** The product's counter in the release bucket: the next number, and the number each release took. */
interface BuildCounter {
  next: number;
  releases: Record<string, number>;
}

export function buildCounterKey(product: string): string {
  return `.relflow/build-numbers/${product}.json`;
}

function parseCounter(text: string, where: string): BuildCounter {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${where}: not JSON (${(error as Error).message}); fix or remove it`, 'InvalidBuildCounter');
  }
  const counter = value as Partial<BuildCounter> | null;
  const numbers = Object.values(counter?.releases ?? {});
  if (
    typeof counter !== 'object' ||
    counter === null ||
    !Number.isSafeInteger(counter.next) ||
    (counter.next as number) < 1 ||
    typeof counter.releases !== 'object' ||
    counter.releases === null ||
    !numbers.every((number) => Number.isSafeInteger(number) && number < (counter.next as number))
  ) {
    throw ApplicationFailure.nonRetryable(
      `${where}: expected {"next": <number>, "releases": {"<release id>": <number below next>}}; fix or remove it`,
      'InvalidBuildCounter',
    );
  }
  return counter as BuildCounter;
}

function preconditionFailed(error: unknown): boolean {
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  // 412: someone wrote the counter since we read it; 409: a write of it is in flight.
  return status === 412 || status === 409;
}

/**
 * The release's build number: the one it took before (a re-run or a retry keeps
 * it), else the product's next, taken with a conditional write so two releases
 * starting at once never share one. Temporal records the result, so the
 * workflow never asks again.
 */
export async function allocateBuildNumber(
  input: { storage: StorageSpec; product: string; releaseId: string },
  env: NodeJS.ProcessEnv,
): Promise<{ build: number; allocated: boolean }> {
  const { storage } = input;
  const client = s3Client(storage, env);
  const key = buildCounterKey(input.product);
  const where = `build counter s3://${storage.bucket}/${key}`;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    // A manifest recorded before build numbers has no firstBuildNumber.
    let counter: BuildCounter = { next: storage.firstBuildNumber ?? 1, releases: {} };
    let etag: string | undefined;
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key }));
      etag = response.ETag;
      counter = parseCounter((await response.Body?.transformToString('utf8')) ?? '', where);
    } catch (error) {
      if (!isMissingObject(error)) throw error;
    }
    const taken = counter.releases[input.releaseId];
    if (taken !== undefined) return { build: taken, allocated: false };
    const build = counter.next;
    const body = `${JSON.stringify({ next: build + 1, releases: { ...counter.releases, [input.releaseId]: build } }, null, 2)}\n`;
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: storage.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
        }),
      );
      return { build, allocated: true };
    } catch (error) {
      if (!preconditionFailed(error)) throw error;
    }
  }
  throw new Error(`${where}: 50 releases of ${input.product} took a number at the same time as this one; trying again`);
}
