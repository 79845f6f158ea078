/**
 * `npm run bench`: a nightly of a synthetic product with relflow, against the
 * sequential script it replaces, on the same machine in the same run.
 *   node lib/bench/run.js [--repos 30] [--artifacts 8] [--artifact-mib 24] [--remote-seconds 60] [--git-parallelism 8]
 * A second scenario builds every artifact on a machine of its own (ec2 builder,
 * moto, machines played by test/support/machines.ts) that works REMOTE_SECONDS off this CPU.
 * Prints figures and ratios; asserts nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createReadStream } from 'node:fs';
import { s3Client, sha256File, storeFile } from '../src/activities/storage';
import { validateManifest } from '../src/config/loadManifest';
import type { Manifest } from '../src/config/manifest';
import { buildReleasePlan, repositoryTemplateValues } from '../src/release/plan';
import { applyVersionRules, concreteRules } from '../src/release/versionRules';
import { ensureTools } from '../src/worker/tools';
import { freePort, startDevServer } from '../src/dev/temporalServer';
import { startWorkers } from '../src/worker/worker';
import { releaseWorkflow } from '../src/workflows';
import type { ReleaseState } from '../src/release/model';
import { MOTO_ENV, motoEndpoint, stopServices } from '../src/dev/localServices';
import { writeLoopbackSecretsFile } from '../src/dev/secretsFile';
import { tempDir } from '../test/support/temporal';
import { playMachines } from '../test/support/machines';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
}

const REPOS = option('repos', 30);
const ARTIFACTS = option('artifacts', 8);
const ARTIFACT_MIB = option('artifact-mib', 24);
const REMOTE_SECONDS = option('remote-seconds', 60);
const GIT_PARALLELISM = option('git-parallelism', 8);
// The benchmark's workers hold the moto credentials, allowed to the local services only.
process.env.RELFLOW_SECRETS ||= writeLoopbackSecretsFile(
  join(tmpdir(), `relflow-bench-secrets-${process.pid}.yaml`),
  Object.keys(MOTO_ENV),
);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** N repositories with a few hundred files, some history, setup.py and plugin.yaml; the first M build a tarball. */
function generateProduct(root: string): string[] {
  const urls: string[] = [];
  for (let index = 0; index < REPOS; index += 1) {
    const name = `repo-${String(index).padStart(3, '0')}`;
    const work = join(root, 'seed', name);
    mkdirSync(join(work, 'src'), { recursive: true });
    git(work, 'init', '-q', '-b', 'master');
    for (let commit = 0; commit < 5; commit += 1) {
      for (let file = 0; file < 60; file += 1)
        writeFileSync(
          join(work, 'src', `module_${commit}_${file}.py`),
          `# module ${commit}/${file}\nVALUE = ${commit * file}\n${'x = 1\n'.repeat(40)}`,
        );
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', `work ${commit}`);
    }
    writeFileSync(join(work, 'setup.py'), `from setuptools import setup\nsetup(name='${name}', version='3.3')\n`);
    writeFileSync(join(work, 'plugin.yaml'), `plugins:\n  p:\n    package_version: '1.3'\n`);
    // Reproducible build: the same commit gives the same bytes (gzip -n, fixed mtime and order).
    writeFileSync(
      join(work, 'build.sh'),
      `#!/bin/sh\nset -e\nmkdir -p out\nhead -c ${ARTIFACT_MIB * 1024 * 1024} /dev/zero | tr '\\000' 'a' > out/payload\ncp -r src out/\ntar --sort=name --mtime=2020-01-01 --owner=0 --group=0 -cf - out | gzip -n -1 > ${name}.tgz\n`,
    );
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'release files');
    const bare = join(root, 'remotes', `${name}.git`);
    mkdirSync(join(root, 'remotes'), { recursive: true });
    git(root, 'clone', '-q', '--bare', work, bare);
    urls.push(bare);
  }
  return urls;
}

/** Each artifact on a machine of its own: the build waits off this CPU, then packs a small file. */
function remoteArtifacts(urls: string[]) {
  return urls.slice(0, ARTIFACTS).map((_url, index) => {
    const name = `repo-${String(index).padStart(3, '0')}`;
    return {
      name,
      repository: name,
      builder: 'ec2' as const,
      command: `sleep ${REMOTE_SECONDS} && tar czf ${name}.tgz setup.py`,
      outputs: [`${name}.tgz`],
      ec2: { imageId: 'ami-12c6146b' },
    };
  });
}

function manifestFor(urls: string[], endpoint: string, mirror: string, bucket: string, remote = false): Manifest {
  return validateManifest(
    {
      product: 'bench',
      versions: { core: '3.5', plugins: '1.5' },
      git: { parallelism: GIT_PARALLELISM },
      repositories: urls.map((url, index) => ({ name: `repo-${String(index).padStart(3, '0')}`, url })),
      versionRules: [{ preset: 'setup.py' }, { preset: 'plugin.yaml' }],
      artifacts: remote
        ? remoteArtifacts(urls)
        : urls.slice(0, ARTIFACTS).map((_url, index) => {
            const name = `repo-${String(index).padStart(3, '0')}`;
            return { name, repository: name, command: 'sh build.sh', outputs: [`${name}.tgz`] };
          }),
      storage: {
        bucket,
        endpoint,
        accessKeyIdEnv: 'TEST_AWS_KEY',
        secretAccessKeyEnv: 'TEST_AWS_SECRET',
        mirrors: [{ type: 'directory', name: 'mirror', path: mirror }],
      },
      ec2: { endpoint, accessKeyIdEnv: 'TEST_AWS_KEY', secretAccessKeyEnv: 'TEST_AWS_SECRET', pollInterval: '1s' },
    },
    'bench manifest',
  );
}

/** What the release engineers' script did, one repository after another. */
async function baseline(manifest: Manifest, root: string, date: string): Promise<number> {
  mkdirSync(root, { recursive: true });
  const started = Date.now();
  const plan = buildReleasePlan(manifest, { kind: 'nightly', date });
  const client = s3Client(manifest.storage as NonNullable<Manifest['storage']>, { ...process.env, ...MOTO_ENV });
  for (const repository of plan.repositories) {
    const dir = join(root, repository.name);
    git(root, 'clone', '-q', repository.url, dir);
    git(dir, 'checkout', '-q', '-B', repository.buildBranch);
    const rules = concreteRules(manifest.versionRules);
    const files = ['setup.py', 'plugin.yaml'].map((path) => ({
      path,
      content: execFileSync('cat', [join(dir, path)], { encoding: 'utf8' }),
    }));
    for (const change of applyVersionRules(repository.name, files, rules, repositoryTemplateValues(plan, manifest, repository)))
      writeFileSync(join(dir, change.path), change.after);
    git(dir, 'commit', '-q', '-am', plan.commitMessage);
    git(dir, 'tag', '-a', '-m', plan.commitMessage, repository.tag as string);
    git(dir, 'push', '-q', 'origin', repository.buildBranch, `refs/tags/${repository.tag}`);
  }
  for (const artifact of manifest.artifacts) {
    const dir = join(root, artifact.repository);
    execFileSync('sh', ['build.sh'], { cwd: dir });
    const file = join(dir, `${artifact.name}.tgz`);
    const key = `org/bench/nightly/${artifact.name}.tgz`;
    await client.send(
      new PutObjectCommand({
        Bucket: manifest.storage?.bucket,
        Key: key,
        Body: createReadStream(file),
        Metadata: { sha256: await sha256File(file) },
      }),
    );
    mkdirSync(join(root, 'mirror'), { recursive: true });
    execFileSync('cp', [file, join(root, 'mirror')]);
  }
  return Date.now() - started;
}

interface Measured {
  wallMs: number;
  busyMs: number;
  events: number;
  /** The largest history of the release and its children, in bytes (Temporal's limit: 50 MiB). */
  largestHistoryBytes: number;
  state: ReleaseState;
}

/** Wall time, and the time at least one activity ran (the critical path of activity times), from the history. */
async function runNightly(client: Client, taskQueue: string, manifest: Manifest, date: string, workflowId: string): Promise<Measured> {
  const started = Date.now();
  const handle = await client.workflow.start(releaseWorkflow, {
    taskQueue,
    workflowId,
    args: [{ manifest, kind: 'nightly', date, buildTaskQueue: `${taskQueue}-builds` }],
  });
  const state = await handle.result();
  const wallMs = Date.now() - started;
  const intervals: [number, number][] = [];
  let largestHistoryBytes = 0;
  const children: string[] = [];
  const collect = async (id: string) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    largestHistoryBytes = Math.max(largestHistoryBytes, temporal.api.history.v1.History.encode(history).finish().length);
    const startedAt = new Map<number, number>();
    for (const event of history.events ?? []) {
      const time = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
      if (event.activityTaskStartedEventAttributes) startedAt.set(Number(event.activityTaskStartedEventAttributes.scheduledEventId), time);
      const done = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
      if (done) intervals.push([startedAt.get(Number(done.scheduledEventId)) ?? time, time]);
      const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (child) children.push(child);
    }
    return history.events?.length ?? 0;
  };
  // The release and every child: artifact builds and, above 100 repositories, the batches of per-repository work.
  let events = await collect(workflowId);
  for (const child of children) events += await collect(child);
  intervals.sort((a, b) => a[0] - b[0]);
  let busyMs = 0;
  let end = 0;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    busyMs += to - Math.max(from, end);
    end = to;
  }
  return { wallMs, busyMs, events, largestHistoryBytes, state };
}

/** Throughput and memory of one 100 MiB upload (moto S3, multipart, plus the directory mirror). */
async function uploadFigures(manifest: Manifest, root: string, say: (line: string) => void): Promise<void> {
  const path = join(root, 'upload-100mib.bin');
  execFileSync('sh', ['-c', `head -c ${100 * 1024 * 1024} /dev/urandom > ${path}`]);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = Date.now();
  await storeFile(
    { storage: manifest.storage as NonNullable<Manifest['storage']>, name: 'upload', key: 'bench/upload-100mib.bin', path },
    { ...process.env, ...MOTO_ENV },
  );
  const ms = Date.now() - started;
  clearInterval(sampler);
  say(
    `100 MiB upload (sha256, S3 multipart, mirror) ${seconds(ms)} = ${(100 / (ms / 1000)).toFixed(0)} MiB/s; RSS grew ${((peak - rssBefore) / 1048576).toFixed(0)} MiB during it`,
  );
}

/** The remote-builds scenario: the release's wall time against its longest build plus the git stages. */
async function remoteBuildFigures(
  client: Client,
  taskQueue: string,
  urls: string[],
  endpoint: string,
  root: string,
  say: (line: string) => void,
): Promise<void> {
  const manifest = manifestFor(urls, endpoint, join(root, 'mirror-remote'), 'bench-remote', true);
  await s3Client(manifest.storage as NonNullable<Manifest['storage']>, { ...process.env, ...MOTO_ENV }).send(
    new CreateBucketCommand({ Bucket: 'bench-remote' }),
  );
  const player = playMachines(
    new EC2Client({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: MOTO_ENV.TEST_AWS_KEY, secretAccessKey: MOTO_ENV.TEST_AWS_SECRET },
    }),
  );
  const run = await runNightly(client, taskQueue, manifest, '20260103', 'bench-nightly-remote');
  const machines = await player.stop();
  const stage = (name: string) => stageMs(run.state, name) || 0;
  const gitMs = stage('checkout') + stage('version') + stage('tag');
  const longestMs = Math.max(...machines.map((machine) => (machine.endedAt ?? machine.startedAt) - machine.startedAt));
  say('');
  say(`remote builds: ${machines.length} machines (ec2 builder on moto), each ${REMOTE_SECONDS} s off this CPU`);
  say(`release wall time                   ${seconds(run.wallMs)} (${run.state.status})`);
  say(
    `longest build + git stages          ${seconds(longestMs)} + ${seconds(gitMs)} = ${seconds(longestMs + gitMs)}; wall time is ${(run.wallMs / (longestMs + gitMs)).toFixed(2)}x of it (target <= 1.10x)`,
  );
  say(
    `the rest                            specs ${seconds(stage('specs'))}, artifacts stage ${seconds(stage('artifacts'))}, announce ${seconds(stage('announce'))}`,
  );
}

/** How long a stage of the release ran, or NaN when it did not. */
function stageMs(state: ReleaseState, name: string): number {
  const stage = state.stages.find((candidate) => candidate.name === name);
  return stage?.startedAt && stage.endedAt ? Date.parse(stage.endedAt) - Date.parse(stage.startedAt) : NaN;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const root = tempDir('bench');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`relflow bench: ${REPOS} repositories (git parallelism ${GIT_PARALLELISM}), ${ARTIFACTS} artifacts of ~${ARTIFACT_MIB} MiB, ${root}`);
  const generated = Date.now();
  const urls = generateProduct(root);
  say(`scenario generated in ${((Date.now() - generated) / 1000).toFixed(1)} s`);
  const endpoint = await motoEndpoint();
  const port = await freePort();
  const server = await startDevServer({ temporalCli: ensureTools().temporalCli, port, uiPort: port + 1000, log: 'ignore' });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const connection = await NativeConnection.connect({ address: server.address });
  const taskQueue = 'bench';
  const workers = await startWorkers(
    { connection, namespace: 'default', workspaceDir: join(root, 'workspace'), env: { ...process.env, ...MOTO_ENV } },
    [taskQueue, `${taskQueue}-builds`],
  );
  try {
    // The baseline pushes to its own copies of the remotes, taken before relflow runs: both start from the same state.
    const baselineRoot = join(root, 'baseline');
    mkdirSync(baselineRoot, { recursive: true });
    const baselineUrls = urls.map((url, index) => {
      const copy = join(baselineRoot, 'remotes', `repo-${index}.git`);
      git(root, 'clone', '-q', '--bare', url, copy);
      return copy;
    });
    const relflowManifest = manifestFor(urls, endpoint, join(root, 'mirror-relflow'), 'bench-relflow');
    await s3Client(relflowManifest.storage as NonNullable<Manifest['storage']>, { ...process.env, ...MOTO_ENV }).send(
      new CreateBucketCommand({ Bucket: 'bench-relflow' }),
    );
    const first = await runNightly(client, taskQueue, relflowManifest, '20260101', 'bench-nightly-1');
    const rssAfterRelflow = process.resourceUsage().maxRSS / 1024;
    const warm = await runNightly(client, taskQueue, relflowManifest, '20260102', 'bench-nightly-2');
    const rerun = await runNightly(client, taskQueue, relflowManifest, '20260102', 'bench-nightly-2-rerun');

    const baselineManifest = manifestFor(baselineUrls, endpoint, join(baselineRoot, 'mirror'), 'bench-baseline');
    await s3Client(baselineManifest.storage as NonNullable<Manifest['storage']>, { ...process.env, ...MOTO_ENV }).send(
      new CreateBucketCommand({ Bucket: 'bench-baseline' }),
    );
    const baselineMs = await baseline(baselineManifest, join(baselineRoot, 'work'), '20260101');

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    say('');
    say(`baseline (sequential script)        ${seconds(baselineMs)}`);
    say(`relflow nightly (cold workspace)    ${seconds(first.wallMs)}   speed-up ${ratio(baselineMs, first.wallMs)}x (target >= 1.8x)`);
    say(
      `orchestration overhead              ${seconds(first.wallMs - first.busyMs)} = ${((100 * (first.wallMs - first.busyMs)) / first.wallMs).toFixed(1)} % of wall time (target <= 5 %)`,
    );
    say(`second nightly (warm workspace)     ${seconds(warm.wallMs)}   ${ratio(warm.wallMs, first.wallMs)}x of the first (target <= 0.5x)`);
    say(
      `re-run of a finished nightly        ${seconds(rerun.wallMs)}   ${ratio(rerun.wallMs, warm.wallMs)}x of the first run of that nightly (target <= 0.1x)`,
    );
    say(`worker peak RSS (this process)      ${rssAfterRelflow.toFixed(0)} MiB`);
    say(
      `history events (release + children) ${first.events} (limit 51200 per workflow); largest history ${(first.largestHistoryBytes / 1024).toFixed(0)} KiB (limit 50 MiB)`,
    );
    say(`release states                      ${first.state.status}, ${warm.state.status}, ${rerun.state.status}`);
    say(
      `checkout of ${REPOS} repositories       cold ${seconds(stageMs(first.state, 'checkout'))}, warm ${seconds(stageMs(warm.state, 'checkout'))}`,
    );
    say(
      `stage times of the first nightly     ${first.state.stages
        .filter((stage) => stage.status === 'succeeded')
        .map((stage) => `${stage.name} ${seconds(stageMs(first.state, stage.name))}`)
        .join(', ')}`,
    );
    await uploadFigures(relflowManifest, root, say);
    await remoteBuildFigures(client, taskQueue, urls, endpoint, root, say);
  } finally {
    await workers.stop();
    await connection.close();
    await client.connection.close();
    await server.stop();
    stopServices();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
