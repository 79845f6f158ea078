import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ApplicationFailure } from '@temporalio/common';
import type { StoredFile } from '../../release/model';
import { heartbeat, lastLines, pause, runProcess } from '../process';
import { openStoredObject, readStoredText, s3Client } from '../storage';
import { expandOutputs, storeBuildOutputs } from './outputs';
import { buildVariables } from './source';
import type { BuildRequest, Machine } from './types';

// The remote-machine adapter: builds on a machine of their own (ec2, vagrant) share one path.
// The machine runs buildScript, which reports its outputs, log and status to presigned S3 URLs
// (reportKeys); finishMachineBuild / collectMachineOutputs read the status and store the outputs
// like any build's; removeMachineReports cleans up. A builder adds only how its machine starts and stops.

const SAFE_PATTERN = /^[A-Za-z0-9._/*?-]+$/;

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The artifact run a machine belongs to (a build started outside a workflow is run 'direct'). */
export function buildRun(request: BuildRequest): string {
  return request.runId ?? 'direct';
}

/**
 * Where a machine reports, beside the release's files. Keyed by the artifact
 * workflow's run, so an operator's retry never reads a status a failed run left.
 */
export function reportKeys(request: BuildRequest) {
  const base = `${request.keyPrefix}.relflow-builds/${request.artifact.name}/${buildRun(request)}`;
  return { outputs: `${base}/outputs.tar`, log: `${base}/build.log`, status: `${base}/status` };
}

/**
 * The script a build machine runs: clone, check out the release commit, build,
 * tar the outputs and PUT them, the log and the status to presigned URLs. No
 * credential is on the machine; the URLs expire with the build timeout.
 */
export async function buildScript(request: BuildRequest, env: NodeJS.ProcessEnv): Promise<string> {
  for (const pattern of request.artifact.outputs) {
    if (!SAFE_PATTERN.test(pattern)) {
      throw ApplicationFailure.nonRetryable(
        `artifacts.${request.artifact.name}.outputs: '${pattern}' may only use letters, digits, . _ / - * ? on a build machine`,
        'InvalidOutput',
      );
    }
  }
  const client = s3Client(request.storage, env);
  const expiresIn = Math.min(7 * 24 * 3600, Math.ceil(request.timeoutMs / 1000) + 3600);
  const keys = reportKeys(request);
  const put = (key: string) => getSignedUrl(client, new PutObjectCommand({ Bucket: request.storage.bucket, Key: key }), { expiresIn });
  const [outputsUrl, logUrl, statusUrl] = await Promise.all([put(keys.outputs), put(keys.log), put(keys.status)]);
  const variables = Object.entries(buildVariables(request))
    .map(([name, value]) => `${name}=${quote(value)}`)
    .join(' ');
  return [
    '#!/bin/sh',
    'set -u',
    'work=$(mktemp -d)',
    'status=failed',
    `if git clone --quiet ${quote(request.repository.url)} "$work/src" > "$work/build.log" 2>&1 \\`,
    `  && cd "$work/src" && git checkout --quiet ${quote(request.sha)} >> "$work/build.log" 2>&1 \\`,
    `  && env ${variables} sh -c ${quote(request.artifact.command)} >> "$work/build.log" 2>&1 \\`,
    `  && tar cf "$work/outputs.tar" ${request.artifact.outputs.join(' ')} >> "$work/build.log" 2>&1; then status=ok; fi`,
    `curl -sf -X PUT --upload-file "$work/build.log" ${quote(logUrl)}`,
    `if [ "$status" = ok ]; then curl -sf -X PUT --upload-file "$work/outputs.tar" ${quote(outputsUrl)} || status=failed; fi`,
    // A file, not --data-binary: curl would send that as a form, which some S3 servers read as an empty body.
    'printf %s "$status" > "$work/status"',
    `curl -sf -X PUT --upload-file "$work/status" ${quote(statusUrl)}`,
    'cd / && rm -rf "$work"',
    '[ "$status" = ok ]',
    '',
  ].join('\n');
}

/**
 * One look at the machine's report: undefined while it has not reported; its
 * stored outputs when it succeeded (streamed to disk, then stored like any
 * build's); a non-retryable failure with the end of its log when it failed.
 */
export async function finishMachineBuild(
  request: BuildRequest & { machine: Machine },
  env: NodeJS.ProcessEnv,
): Promise<StoredFile[] | undefined> {
  const keys = reportKeys(request);
  const status = await readStoredText(request.storage, keys.status, env);
  if (status === undefined) return undefined;
  if (status !== 'ok') {
    const log = (await readStoredText(request.storage, keys.log, env)) ?? '(no log)';
    throw ApplicationFailure.nonRetryable(
      `${request.artifact.name}: the build on ${request.machine.id} failed: ${lastLines(log)}`,
      'BuildFailed',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), `relflow-${request.artifact.name}-`));
  try {
    const body = await openStoredObject(request.storage, keys.outputs, env);
    if (!body) throw new Error(`${request.artifact.name}: machine ${request.machine.id} reported ok but its outputs are missing`);
    await pipeline(body, createWriteStream(join(dir, 'outputs.tar')));
    await mkdir(join(dir, 'out'));
    const untar = await runProcess(['tar', 'xf', join(dir, 'outputs.tar'), '-C', join(dir, 'out')], {
      cwd: dir,
      env: { PATH: env.PATH },
      timeoutMs: 10 * 60_000,
    });
    if (untar.code !== 0)
      throw new Error(`${request.artifact.name}: cannot unpack the outputs of ${request.machine.id}: ${lastLines(untar.output)}`);
    return await storeBuildOutputs(
      request,
      request.artifact.outputs.flatMap((pattern) => expandOutputs(join(dir, 'out'), pattern)),
      env,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Looks at the machine's report until it is there (heartbeating), or the build timeout passes. */
export async function collectMachineOutputs(
  request: BuildRequest & { machine: Machine },
  env: NodeJS.ProcessEnv,
  pollMs: number,
): Promise<StoredFile[]> {
  const deadline = Date.now() + request.timeoutMs;
  for (;;) {
    const files = await finishMachineBuild(request, env);
    if (files) return files;
    heartbeat({ machine: request.machine.id, waiting: 'status' });
    if (Date.now() > deadline) {
      throw ApplicationFailure.nonRetryable(
        `${request.artifact.name}: machine ${request.machine.id} reported nothing within ${request.artifact.timeout}`,
        'BuildTimeout',
      );
    }
    await pause(pollMs);
  }
}

/** The tear-down's part: the reports are read, and the outputs already stored under their own names. */
export async function removeMachineReports(request: BuildRequest, env: NodeJS.ProcessEnv): Promise<void> {
  const keys = reportKeys(request);
  await s3Client(request.storage, env).send(
    new DeleteObjectsCommand({
      Bucket: request.storage.bucket,
      Delete: { Objects: Object.values(keys).map((Key) => ({ Key })), Quiet: true },
    }),
  );
}
