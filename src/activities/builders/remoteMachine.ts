import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ApplicationFailure } from '@temporalio/common';
import { isMachineOutputPattern } from '../../config/names';
import type { StoredFile } from '../../release/model';
import { heartbeat, lastLines, pause, runProcess } from '../process';
import { openStoredObject, readStoredText, s3Client, sha256File } from '../storage';
import { expandOutputs, machineOutputList, storeBuildOutputs } from './outputs';
import { buildVariables } from './source';
import type { BuildRequest, Machine } from './types';

// The remote-machine adapter: builds on a machine of their own (ec2, vagrant) share one path.
// The machine runs buildScript, which reports its outputs, log and status to presigned S3 URLs
// (reportKeys); finishMachineBuild / collectMachineOutputs read the status and store the outputs
// like any build's; removeMachineReports cleans up. A builder adds only how its machine starts and stops.

/** How long a machine's presigned URLs outlive its build timeout: its last uploads. */
export const URL_GRACE_SECONDS = 300;

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
 * credential is on the machine; the URLs expire five minutes after the build
 * timeout. The tarball goes with its Content-MD5 (the store refuses a corrupted
 * body) and the status carries its sha256, which the worker checks.
 */
export async function buildScript(request: BuildRequest, env: NodeJS.ProcessEnv): Promise<string> {
  for (const pattern of request.artifact.outputs) {
    if (!isMachineOutputPattern(pattern)) {
      throw ApplicationFailure.nonRetryable(
        `artifacts.${request.artifact.name}.outputs: '${pattern}' may only use letters, digits, . _ / - * ? on a build machine`,
        'InvalidOutput',
      );
    }
  }
  const client = s3Client(request.storage, env);
  const expiresIn = Math.ceil(request.timeoutMs / 1000) + URL_GRACE_SECONDS;
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
    `  && { ${machineOutputList(request.artifact.outputs, '$work/outputs.list')}; } >> "$work/build.log" 2>&1 \\`,
    `  && tar cf "$work/outputs.tar" --no-recursion -T "$work/outputs.list" >> "$work/build.log" 2>&1; then status=ok; fi`,
    `curl -sf -X PUT --upload-file "$work/build.log" ${quote(logUrl)}`,
    'if [ "$status" = ok ]; then',
    '  sum=$(sha256sum "$work/outputs.tar" | cut -d " " -f 1) && md5=$(openssl dgst -md5 -binary "$work/outputs.tar" | base64) \\',
    `    && curl -sf -X PUT -H "Content-MD5: $md5" --upload-file "$work/outputs.tar" ${quote(outputsUrl)} && status="ok $sum" || status=failed`,
    'fi',
    // A file, not --data-binary: curl would send that as a form, which some S3 servers read as an empty body.
    'printf %s "$status" > "$work/status"',
    `curl -sf -X PUT --upload-file "$work/status" ${quote(statusUrl)}`,
    'cd / && rm -rf "$work"',
    'case "$status" in ok*) ;; *) false ;; esac',
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
  // 'ok <sha256 of outputs.tar>'; a bare 'ok' comes from machines started before the checksum was reported.
  const reported = /^ok(?: ([0-9a-f]{64}))?$/.exec(status.trim());
  if (!reported) {
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
    const received = await sha256File(join(dir, 'outputs.tar'));
    if (reported[1] && received !== reported[1]) {
      throw ApplicationFailure.nonRetryable(
        `${request.artifact.name}: the outputs stored for ${request.machine.id} are not what it built (sha256 ${received}, the machine reported ${reported[1]}); the upload was replaced or corrupted`,
        'BuildOutputMismatch',
      );
    }
    await mkdir(join(dir, 'out'));
    await unpackMachineOutputs(request, join(dir, 'outputs.tar'), join(dir, 'out'), env);
    return await storeBuildOutputs(request, expandOutputs(join(dir, 'out'), request.artifact.outputs, request.artifact.name), env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Unpacks what a machine sent: regular files and directories only. The build ran
 * the repository's code with the machine's privileges, so its tarball is hostile:
 * a link, a device or a FIFO in it fails the build before anything is unpacked,
 * and files are written with the worker's owner and umask.
 */
export async function unpackMachineOutputs(
  request: BuildRequest & { machine: Machine },
  tarball: string,
  out: string,
  env: NodeJS.ProcessEnv,
) {
  const tar = (args: string[]) => runProcess(['tar', ...args], { cwd: out, env: { PATH: env.PATH, LC_ALL: 'C' }, timeoutMs: 10 * 60_000 });
  // The whole listing, into a file (a process's output is kept only as its last 20 kB): every entry is checked.
  const index = `${tarball}.listing`;
  const listing = await tar(['--list', '--verbose', '--numeric-owner', '--quoting-style=escape', '-f', tarball, `--index-file=${index}`]);
  if (listing.code !== 0)
    throw new Error(`${request.artifact.name}: cannot read the outputs of ${request.machine.id}: ${lastLines(listing.output)}`);
  const lines = (await readFile(index, 'utf8')).split('\n').filter(Boolean);
  await rm(index, { force: true });
  const refuse = (why: string) =>
    ApplicationFailure.nonRetryable(
      `${request.artifact.name}: the outputs of ${request.machine.id} ${why}; build outputs must be regular files`,
      'InvalidOutput',
    );
  // GNU tar's long listing starts each entry with its type: - a file, d a directory, l h c b p the rest.
  const others = lines.filter((line) => !/^[-d]/.test(line));
  if (others.length > 0)
    throw refuse(`hold ${others.length} entries that are not regular files (${others[0].split(/\s+/).slice(5).join(' ')})`);
  // An uncompressed tar holds every byte of its members, so what they declare fits in it: more is a sparse
  // (or forged) member that would unpack into far more than was uploaded (10 kB becoming 20 GiB).
  const declared = lines.reduce((sum, line) => sum + Number(line.split(/\s+/)[2] ?? 0), 0);
  const size = (await stat(tarball)).size;
  if (!Number.isFinite(declared) || declared > size)
    throw refuse(`declare ${declared} bytes in a tarball of ${size} (a sparse or forged member)`);
  const untar = await tar(['--extract', '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir', '-f', tarball, '-C', out]);
  if (untar.code !== 0)
    throw new Error(`${request.artifact.name}: cannot unpack the outputs of ${request.machine.id}: ${lastLines(untar.output)}`);
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
