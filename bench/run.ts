/**
 * `npm run bench`: a nightly of a synthetic product with relflow, against the
 * sequential script it replaces, on the same machine in the same run, on two
 * networks: loopback (remotes on the disk, moto direct) and a WAN (git over
 * smart HTTP and S3 behind toxiproxy's latency and bandwidth limits).
 *   node lib/bench/run.js [--wan | --loopback] [--repos 30] [--artifacts 8] [--history-mib 20] [--artifact-mib 24]
 *                         [--remote-seconds 60] [--git-parallelism 8] [--no-remote] [--keep]
 * A last scenario builds every artifact on a machine of its own (ec2 builder,
 * moto, machines played by test/support/machines.ts) that works REMOTE_SECONDS off this CPU.
 * Prints a table of figures against their targets and writes it to
 * bench-results.json (beside the previous run's, when there is one); asserts nothing.
 * Its directory under the system's temp directory is removed at the end; `--keep` keeps it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
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
import { concreteRules } from '../src/release/versionRules';
import { applyVersionRules } from '../src/release/versionRewrite';
import { ensureTools, projectRoot } from '../src/worker/tools';
import { PreparedRelease, startPreparedRelease } from '../src/client/releases';
import { startToxiproxy } from '../chaos/toxiproxy';
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
const HISTORY_MIB = option('history-mib', 20);
const WAN_ONLY = process.argv.includes('--wan');
const LOOPBACK_ONLY = process.argv.includes('--loopback');
// The benchmark's workers hold the moto credentials, allowed to the local services only.
const OWN_SECRETS = process.env.RELFLOW_SECRETS ? undefined : join(tmpdir(), `relflow-bench-secrets-${process.pid}.yaml`);
if (OWN_SECRETS) process.env.RELFLOW_SECRETS = writeLoopbackSecretsFile(OWN_SECRETS, Object.keys(MOTO_ENV));
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

/**
 * One history of a realistic size (HISTORY_MIB of source text over a few
 * hundred files and twenty commits, so that a clone and a fetch differ),
 * packed once; every repository grows from it.
 */
function generateHistory(root: string): string {
  const work = join(root, 'seed', 'history');
  mkdirSync(join(work, 'src'), { recursive: true });
  git(work, 'init', '-q', '-b', 'master');
  const FILES = 300;
  const COMMITS = 20;
  const PER_COMMIT = 15;
  // base64 text compresses to about three quarters: write that much more to store HISTORY_MIB.
  const bytesPerFile = Math.ceil((HISTORY_MIB * 1048576) / (COMMITS * PER_COMMIT) / 0.76);
  const moduleFile = (index: number) => join(work, 'src', `module_${String(index).padStart(3, '0')}.py`);
  for (let file = 0; file < FILES; file += 1) writeFileSync(moduleFile(file), `# module ${file}\nVALUE = ${file}\n`);
  for (let commit = 0; commit < COMMITS; commit += 1) {
    for (let change = 0; change < PER_COMMIT; change += 1) {
      const text = randomBytes(Math.ceil((bytesPerFile * 3) / 4))
        .toString('base64')
        .replace(/.{76}/g, '$&\n');
      writeFileSync(moduleFile((commit * PER_COMMIT + change) % FILES), `# revision ${commit}\nDATA = """\n${text}\n"""\n`);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `work ${commit}`);
  }
  const bare = join(root, 'history.git');
  git(root, 'clone', '-q', '--bare', work, bare);
  git(bare, 'repack', '-adq');
  return bare;
}

/** N repositories of that history, each with its setup.py, plugin.yaml and build; the first M build a tarball. */
function generateProduct(root: string): string[] {
  const history = generateHistory(root);
  const urls: string[] = [];
  for (let index = 0; index < REPOS; index += 1) {
    const name = `repo-${String(index).padStart(3, '0')}`;
    const work = join(root, 'seed', name);
    git(root, 'clone', '-q', history, work);
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

function manifestFor(product: string, urls: string[], endpoint: string, mirror: string, bucket: string, remote = false): Manifest {
  return validateManifest(
    {
      product,
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
    const files = ['setup.py', 'plugin.yaml'].map((path) => ({ path, content: readFileSync(join(dir, path), 'utf8') }));
    for (const change of applyVersionRules(repository.name, files, rules, repositoryTemplateValues(plan, manifest, repository)).changes)
      writeFileSync(join(dir, change.path), change.after);
    git(dir, 'commit', '-q', '-am', plan.commitMessage);
    git(dir, 'tag', '-a', '-m', plan.commitMessage, repository.tag as string);
    git(dir, 'push', '-q', 'origin', repository.buildBranch, `refs/tags/${repository.tag}`);
  }
  for (const artifact of manifest.artifacts) {
    const dir = join(root, artifact.repository);
    execFileSync('sh', ['build.sh'], { cwd: dir });
    const file = join(dir, `${artifact.name}.tgz`);
    const key = `org/${manifest.product}/nightly/${artifact.name}.tgz`;
    await client.send(
      new PutObjectCommand({
        Bucket: manifest.storage?.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: statSync(file).size,
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
  /** CPU seconds of this process (the workers) and the processes it ran and waited for (git, builds). */
  cpuSeconds: number;
  /** The share of the machine's CPU time (all cores, every process: servers and proxies too) that was busy. */
  machineBusy: number;
  /** Per activity type: how many ran, their summed run time and the summed wait for a worker (schedule to start). */
  activities: Map<string, { count: number; runMs: number; waitMs: number; maxMs: number }>;
  rssBytes: number;
  state: ReleaseState;
}

/** Busy and total jiffies of all cores (/proc/stat), for the share of the machine a run kept busy. */
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - fields[3] - fields[4], total };
}

function busyShare(before: { busy: number; total: number }): number {
  const after = machineCpu();
  return (after.busy - before.busy) / Math.max(1, after.total - before.total);
}

/** user + sys of this process and its waited-for children (git, builds), from /proc (fields 14-17). */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

function nightlyRequest(manifest: Manifest, date: string, taskQueue: string): PreparedRelease {
  return {
    request: { manifest, kind: 'nightly', date, buildTaskQueue: `${taskQueue}-builds` },
    plan: buildReleasePlan(manifest, { kind: 'nightly', date }),
    taskQueue,
  };
}

/**
 * A nightly as `relflow start` runs it (workflow ID = release ID), or, given
 * `workflowId`, a fresh workflow of it beside it. Wall time, CPU, and the time
 * at least one activity ran (the critical path of activity times), from the history.
 */
async function runNightly(client: Client, taskQueue: string, manifest: Manifest, date: string, workflowId?: string): Promise<Measured> {
  const started = Date.now();
  const cpuBefore = cpuSeconds();
  const machineBefore = machineCpu();
  const prepared = nightlyRequest(manifest, date, taskQueue);
  const id = workflowId ?? prepared.plan.releaseId;
  if (workflowId) await client.workflow.start(releaseWorkflow, { taskQueue, workflowId, args: [prepared.request] });
  else if (!(await startPreparedRelease(client, prepared)).started) throw new Error(`${id} ran before: the bench needs a fresh server`);
  const state = (await client.workflow.getHandle(id).result()) as ReleaseState;
  const wallMs = Date.now() - started;
  const cpu = cpuSeconds() - cpuBefore;
  const machineBusy = busyShare(machineBefore);
  const intervals: [number, number][] = [];
  const activities: Measured['activities'] = new Map();
  let largestHistoryBytes = 0;
  const children: string[] = [];
  const collect = async (workflow: string) => {
    const history = await client.workflow.getHandle(workflow).fetchHistory();
    largestHistoryBytes = Math.max(largestHistoryBytes, temporal.api.history.v1.History.encode(history).finish().length);
    const startedAt = new Map<number, number>();
    const scheduled = new Map<number, { type: string; at: number }>();
    for (const event of history.events ?? []) {
      const time = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
      const schedule = event.activityTaskScheduledEventAttributes;
      if (schedule) scheduled.set(Number(event.eventId), { type: schedule.activityType?.name ?? '?', at: time });
      if (event.activityTaskStartedEventAttributes) startedAt.set(Number(event.activityTaskStartedEventAttributes.scheduledEventId), time);
      const done = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
      if (done) {
        const from = startedAt.get(Number(done.scheduledEventId)) ?? time;
        intervals.push([from, time]);
        const { type, at } = scheduled.get(Number(done.scheduledEventId)) ?? { type: '?', at: from };
        const sum = activities.get(type) ?? { count: 0, runMs: 0, waitMs: 0, maxMs: 0 };
        sum.count += 1;
        sum.runMs += time - from;
        sum.waitMs += from - at;
        sum.maxMs = Math.max(sum.maxMs, time - from);
        activities.set(type, sum);
      }
      const child = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
      if (child) children.push(child);
    }
    return history.events?.length ?? 0;
  };
  // The release and every child: artifact builds and, above 100 repositories, the batches of per-repository work.
  let events = await collect(id);
  for (const child of children) events += await collect(child);
  intervals.sort((a, b) => a[0] - b[0]);
  let busyMs = 0;
  let end = 0;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    busyMs += to - Math.max(from, end);
    end = to;
  }
  return {
    wallMs,
    busyMs,
    events,
    largestHistoryBytes,
    cpuSeconds: cpu,
    machineBusy,
    activities,
    rssBytes: process.memoryUsage().rss,
    state,
  };
}

/** One line of the results: a figure, what it measured, its target and whether it met it. */
interface Figure {
  scenario: string;
  figure: string;
  measured: string;
  value: number;
  target?: string;
  met?: boolean;
}

class Results {
  readonly figures: Figure[] = [];
  constructor(readonly say: (line: string) => void) {}

  /** A figure; `target` as '>= 4' or '<= 0.4' compares `value` with it. */
  add(scenario: string, figure: string, value: number, measured: string, target?: string): void {
    const bound = target?.match(/^(>=|<=) ([\d.]+)/);
    const met = bound ? (bound[1] === '>=' ? value >= Number(bound[2]) : value <= Number(bound[2])) : undefined;
    this.figures.push({ scenario, figure, measured, value, target, met });
    this.say(`  ${figure.padEnd(44)} ${measured}${target ? `   (target ${target}: ${met ? 'met' : 'NOT met'})` : ''}`);
  }

  /** The table, beside the previous run's figures when bench-results.json holds them, and the JSON for the next run. */
  write(file: string, setting: Record<string, unknown>): void {
    const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { figures?: Figure[] }).figures : undefined;
    const before = (figure: Figure) =>
      previous?.find((old) => old.scenario === figure.scenario && old.figure === figure.figure)?.measured ?? '';
    const head = ['scenario', 'figure', 'measured', 'target', 'met', ...(previous ? ['previous run'] : [])];
    const rows = this.figures.map((figure) => [
      figure.scenario,
      figure.figure,
      figure.measured,
      figure.target ?? '',
      figure.met === undefined ? '' : figure.met ? 'yes' : 'NO',
      ...(previous ? [before(figure)] : []),
    ]);
    const widths = head.map((_, column) => Math.max(...[head, ...rows].map((row) => row[column].length)));
    const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
    this.say('');
    for (const row of [head, widths.map((width) => '-'.repeat(width)), ...rows]) this.say(line(row));
    writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), setting, figures: this.figures }, null, 2)}\n`);
    this.say(`\nwritten to ${file}`);
  }
}

/** Where a scenario's remotes and S3 are: the disk and moto directly, or all behind toxiproxy. */
interface Network {
  scenario: 'loopback' | 'wan';
  relflowUrls: string[];
  baselineUrls: string[];
  s3Endpoint: string;
}

/** Throughput and memory of one 100 MiB upload (moto S3, multipart, plus the directory mirror). */
async function uploadFigures(manifest: Manifest, root: string, results: Results): Promise<void> {
  const path = join(root, 'upload-100mib.bin');
  execFileSync('sh', ['-c', `head -c ${100 * 1024 * 1024} /dev/urandom > ${path}`]);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = Date.now();
  await storeFile(
    {
      storage: manifest.storage as NonNullable<Manifest['storage']>,
      release: 'bench-upload',
      name: 'upload',
      key: 'bench/upload-100mib.bin',
      path,
    },
    { ...process.env, ...MOTO_ENV },
  );
  const ms = Date.now() - started;
  clearInterval(sampler);
  results.add('upload', '100 MiB upload (sha256, multipart, mirror)', 100 / (ms / 1000), `${(100 / (ms / 1000)).toFixed(0)} MiB/s`);
  results.add('upload', 'RSS growth during it', (peak - rssBefore) / 1048576, `${((peak - rssBefore) / 1048576).toFixed(0)} MiB`);
}

/** The remote-builds scenario: the release's wall time against its longest build plus the git stages. */
async function remoteBuildFigures(client: Client, taskQueue: string, urls: string[], endpoint: string, root: string, results: Results) {
  const manifest = manifestFor('bench-remote', urls, endpoint, join(root, 'mirror-remote'), 'bench-remote', true);
  await createBucket(manifest);
  const player = playMachines(
    new EC2Client({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: MOTO_ENV.TEST_AWS_KEY, secretAccessKey: MOTO_ENV.TEST_AWS_SECRET },
    }),
  );
  const run = await runNightly(client, taskQueue, manifest, '20260103');
  const machines = await player.stop();
  const stage = (name: string) => stageMs(run.state, name) || 0;
  const gitMs = stage('checkout') + stage('version') + stage('tag');
  const longestMs = Math.max(...machines.map((machine) => (machine.endedAt ?? machine.startedAt) - machine.startedAt));
  results.say(
    `remote builds: ${machines.length} machines (ec2 builder on moto), each ${REMOTE_SECONDS} s off this CPU; release ${run.state.status}`,
  );
  results.add(
    'remote builds',
    'wall time / (longest build + git stages)',
    run.wallMs / (longestMs + gitMs),
    `${seconds(run.wallMs)} / (${seconds(longestMs)} + ${seconds(gitMs)}) = ${(run.wallMs / (longestMs + gitMs)).toFixed(2)}x`,
    '<= 1.10',
  );
}

async function createBucket(manifest: Manifest): Promise<void> {
  await s3Client(manifest.storage as NonNullable<Manifest['storage']>, { ...process.env, ...MOTO_ENV }).send(
    new CreateBucketCommand({ Bucket: manifest.storage?.bucket }),
  );
}

/**
 * One network: relflow's cold nightly against the script, a warm nightly, a
 * second `relflow start` of a release that succeeded, the same nightly again
 * in a fresh workflow over work already done, and the CPU both spent.
 */
async function releaseFigures(client: Client, taskQueue: string, network: Network, root: string, results: Results): Promise<Manifest> {
  const { scenario } = network;
  const product = `bench-${scenario}`;
  const relflowManifest = manifestFor(product, network.relflowUrls, network.s3Endpoint, join(root, `mirror-${scenario}`), product);
  const baselineManifest = manifestFor(
    product,
    network.baselineUrls,
    network.s3Endpoint,
    join(root, `baseline-${scenario}`, 'mirror'),
    `${product}-baseline`,
  );
  await createBucket(relflowManifest);
  await createBucket(baselineManifest);
  results.say('');
  results.say(`${scenario}:`);
  const first = await runNightly(client, taskQueue, relflowManifest, '20260101');
  const restartStarted = Date.now();
  const again = await startPreparedRelease(client, nightlyRequest(relflowManifest, '20260101', taskQueue));
  const restartMs = Date.now() - restartStarted;
  if (again.started) throw new Error('a second start of a succeeded release started it again');
  const warm = await runNightly(client, taskQueue, relflowManifest, '20260102');
  const overDone = await runNightly(client, taskQueue, relflowManifest, '20260102', `${product}-nightly-20260102-again`);
  const baselineCpuBefore = cpuSeconds();
  const baselineMachineBefore = machineCpu();
  const baselineMs = await baseline(baselineManifest, join(root, `baseline-${scenario}`, 'work'), '20260101');
  const baselineCpu = cpuSeconds() - baselineCpuBefore;
  const baselineBusy = busyShare(baselineMachineBefore);

  const ratio = (value: number) => `${value.toFixed(2)}x`;
  const speedTarget = scenario === 'wan' ? '>= 4' : REPOS >= 200 ? '>= 1.3' : '>= 1.0';
  results.say(`  release states: ${first.state.status}, ${warm.state.status}, ${overDone.state.status}`);
  results.add(scenario, 'sequential script', baselineMs / 1000, seconds(baselineMs));
  results.add(scenario, 'relflow nightly (cold workspace)', first.wallMs / 1000, seconds(first.wallMs));
  results.add(scenario, 'speed-up over the script', baselineMs / first.wallMs, ratio(baselineMs / first.wallMs), speedTarget);
  results.add(scenario, 'second nightly (warm) / first', warm.wallMs / first.wallMs, ratio(warm.wallMs / first.wallMs), '<= 0.4');
  results.add(
    scenario,
    'start of a succeeded release / first',
    restartMs / first.wallMs,
    `${restartMs} ms = ${ratio(restartMs / first.wallMs)}`,
    '<= 0.05',
  );
  results.add(
    scenario,
    'fresh workflow over done work / first',
    overDone.wallMs / warm.wallMs,
    `${seconds(overDone.wallMs)} = ${ratio(overDone.wallMs / warm.wallMs)} of its first run`,
  );
  const overhead = (100 * (first.wallMs - first.busyMs)) / first.wallMs;
  results.add(
    scenario,
    'orchestration overhead (% of wall time)',
    overhead,
    `${seconds(first.wallMs - first.busyMs)} = ${overhead.toFixed(1)} %`,
    '<= 5',
  );
  results.add(
    scenario,
    'CPU seconds, relflow / script',
    first.cpuSeconds / baselineCpu,
    `${first.cpuSeconds.toFixed(1)} s / ${baselineCpu.toFixed(1)} s = ${ratio(first.cpuSeconds / baselineCpu)}`,
    '<= 1.5',
  );
  results.add(
    scenario,
    'checkout, cold / warm',
    stageMs(first.state, 'checkout') / 1000,
    `${seconds(stageMs(first.state, 'checkout'))} / ${seconds(stageMs(warm.state, 'checkout'))}`,
  );
  results.add(
    scenario,
    'history events (release + children)',
    first.events,
    `${first.events}; largest history ${(first.largestHistoryBytes / 1024).toFixed(0)} KiB`,
  );
  const percent = (share: number) => `${(100 * share).toFixed(0)} %`;
  results.add(
    scenario,
    'machine CPU busy, relflow / script',
    first.machineBusy,
    `${percent(first.machineBusy)} / ${percent(baselineBusy)} of ${availableParallelism()} cores`,
  );
  const stageTimes = (run: Measured) =>
    run.state.stages
      .filter((stage) => stage.status === 'succeeded')
      .map((stage) => `${stage.name} ${seconds(stageMs(run.state, stage.name))}`)
      .join(', ');
  results.say(`  stage times of the first nightly: ${stageTimes(first)}`);
  results.say(`  stage times of the warm nightly:  ${stageTimes(warm)}`);
  // Where the time of each run went, per activity type (run time summed over parallel activities, so more than the wall).
  const activityTimes = (run: Measured) =>
    [...run.activities.entries()]
      .sort((a, b) => b[1].runMs - a[1].runMs)
      .filter(([, sum]) => sum.runMs >= 100)
      .map(([type, sum]) => `${type} ${sum.count}x ${seconds(sum.runMs)} (max ${seconds(sum.maxMs)}, waited ${seconds(sum.waitMs)})`)
      .join('; ');
  // A process's spawns slow down as its memory grows (fork copies its page tables): the workers' RSS beside their git times.
  const rss = (run: Measured) => `${(run.rssBytes / 1048576).toFixed(0)} MiB`;
  results.say(`  RSS of the process with the workers after each run: ${rss(first)}, ${rss(warm)}, ${rss(overDone)}`);
  results.say(`  activities of the first nightly: ${activityTimes(first)}`);
  results.say(`  activities of the warm nightly:  ${activityTimes(warm)}`);
  results.say(`  activities over done work:       ${activityTimes(overDone)}`);
  return relflowManifest;
}

/** The bare remotes behind a smart-HTTP git server, and moto, each behind toxiproxy with a WAN's latency and bandwidth. */
async function wanNetwork(
  root: string,
  relflowUrls: string[],
  baselineUrls: string[],
  endpoint: string,
  stack: (() => void)[],
): Promise<Network> {
  // The git server in a process of its own: its git http-backend processes are the host's CPU, not the release's.
  const gitServer = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(join(__dirname, '..', 'test', 'support', 'gitHttp.js'))}).startGitHttpServer(${JSON.stringify(root)}).then((s) => console.log(s.url))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  stack.push(() => gitServer.kill('SIGKILL'));
  const gitUrl = await new Promise<string>((resolve, reject) => {
    gitServer.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    gitServer.once('exit', (code) => reject(new Error(`the git HTTP server exited (${code})`)));
  });
  const toxiproxy = await startToxiproxy(benchTools().toxiproxy);
  stack.push(() => toxiproxy.stop());
  const shaped = async (name: string, upstream: string) => {
    const listen = await toxiproxy.proxy(name, upstream);
    await toxiproxy.add(name, { name: 'latency-down', type: 'latency', stream: 'downstream', attributes: { latency: 40, jitter: 5 } });
    await toxiproxy.add(name, { name: 'latency-up', type: 'latency', stream: 'upstream', attributes: { latency: 40, jitter: 5 } });
    // 100 Mbit/s down, 20 Mbit/s up, in KB/s.
    await toxiproxy.add(name, { name: 'bandwidth-down', type: 'bandwidth', stream: 'downstream', attributes: { rate: 12500 } });
    await toxiproxy.add(name, { name: 'bandwidth-up', type: 'bandwidth', stream: 'upstream', attributes: { rate: 2500 } });
    return listen;
  };
  const gitProxy = await shaped('git', new URL(gitUrl).host);
  const s3Proxy = await shaped('s3', new URL(endpoint).host);
  const overHttp = (url: string) => `http://${gitProxy}/${relative(root, url)}`;
  return {
    scenario: 'wan',
    relflowUrls: relflowUrls.map(overHttp),
    baselineUrls: baselineUrls.map(overHttp),
    s3Endpoint: `http://${s3Proxy}`,
  };
}

/** toxiproxy, built by `bootstrap --toxiproxy` (npm run bench runs it). */
function benchTools(): { toxiproxy: string } {
  const tools = JSON.parse(readFileSync(join(projectRoot, '.relflow', 'tools.json'), 'utf8')) as { toxiproxy?: string };
  if (!tools.toxiproxy || !existsSync(tools.toxiproxy))
    throw new Error('toxiproxy is not built: run `node scripts/bootstrap.mjs --toxiproxy`');
  return { toxiproxy: tools.toxiproxy };
}

/** How long a stage of the release ran, or NaN when it did not. */
function stageMs(state: ReleaseState, name: string): number {
  const stage = state.stages.find((candidate) => candidate.name === name);
  return stage?.startedAt && stage.endedAt ? Date.parse(stage.endedAt) - Date.parse(stage.startedAt) : NaN;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The bench's directory (remotes, workspaces, builds: gigabytes at scale) goes when it ends, unless `--keep` asks to look at it. */
async function main(): Promise<void> {
  const root = tempDir('bench');
  try {
    await measure(root);
  } finally {
    if (OWN_SECRETS) rmSync(OWN_SECRETS, { force: true });
    if (process.argv.includes('--keep')) process.stdout.write(`kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

async function measure(root: string): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const results = new Results(say);
  const scenarios = WAN_ONLY ? ['wan'] : LOOPBACK_ONLY ? ['loopback'] : ['loopback', 'wan'];
  say(
    `relflow bench: ${REPOS} repositories of ~${HISTORY_MIB} MiB history (git parallelism ${GIT_PARALLELISM}), ${ARTIFACTS} artifacts; ${scenarios.join(' and ')}; ${root}`,
  );
  const generated = Date.now();
  const urls = generateProduct(root);
  // Every run pushes to its own copies of the remotes, taken before any runs: all start from the same state.
  const copies = (dir: string) =>
    urls.map((url) => {
      const copy = join(root, dir, basename(url));
      git(root, 'clone', '-q', '--bare', url, copy);
      return copy;
    });
  const baselineUrls = copies('baseline-remotes');
  const wanUrls = scenarios.includes('wan') ? copies('wan-remotes') : [];
  const wanBaselineUrls = scenarios.includes('wan') ? copies('wan-baseline-remotes') : [];
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
  const stack: (() => void)[] = [];
  try {
    let loopbackManifest: Manifest | undefined;
    if (scenarios.includes('loopback')) {
      const network: Network = { scenario: 'loopback', relflowUrls: urls, baselineUrls, s3Endpoint: endpoint };
      loopbackManifest = await releaseFigures(client, taskQueue, network, root, results);
    }
    if (scenarios.includes('wan')) {
      const network = await wanNetwork(root, wanUrls, wanBaselineUrls, endpoint, stack);
      say(`\nwan: git over smart HTTP and S3, each behind toxiproxy: 40 ms each way (±5 ms), 100 Mbit/s down, 20 Mbit/s up per connection`);
      await releaseFigures(client, taskQueue, network, root, results);
    }
    if (loopbackManifest) {
      say('');
      await uploadFigures(loopbackManifest, root, results);
      if (!process.argv.includes('--no-remote')) await remoteBuildFigures(client, taskQueue, urls, endpoint, root, results);
    }
    results.write(join(projectRoot, 'bench-results.json'), {
      repos: REPOS,
      artifacts: ARTIFACTS,
      historyMib: HISTORY_MIB,
      artifactMib: ARTIFACT_MIB,
      gitParallelism: GIT_PARALLELISM,
    });
  } finally {
    for (const stop of stack.reverse()) stop();
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
