/**
 * `npm run chaos`: GA releases of a seven-repository product on the production
 * topology (Temporal on PostgreSQL, two release and two build workers as
 * processes), with faults at points picked from what the release is running:
 * worker processes SIGKILLed, the Temporal server SIGKILLed, PostgreSQL stopped
 * at once. Afterwards every effect is counted with plain tools (git, the S3
 * API with bucket versioning, the PyPI directory, the inbox, the EC2 API, the
 * workers' directories), not with relflow's own state.
 *   node lib/chaos/run.js [--seed N] [--short]
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { buildCounterKey } from '../src/activities/buildNumbers';
import { decideGate, prepareRelease, startPreparedRelease } from '../src/client/releases';
import type { ManifestInput } from '../src/config/manifest';
import { MOTO_ENV, stopServices } from '../src/dev/localServices';
import { STAGES, type ReleaseState } from '../src/release/model';
import type { ReleaseKind } from '../src/release/version';
import { releaseStateQuery } from '../src/workflows/api';
import { createGaFixture, DEMO_REPOSITORIES, FIXTURE_SECRETS, GaFixture } from '../test/support/gaFixture';
import { git } from '../test/support/gitRepos';
import { startGitHttpServer } from '../test/support/gitHttp';
import { playMachines } from '../test/support/machines';
import { ProductionTopology, startProductionTopology } from '../test/support/production';
import type { SystemServer } from '../test/support/systemServer';
import { releaseWorkflowIds, resumedAfter, runningActivities, RunningActivity } from '../test/support/runningActivity';
import { useTestSecrets } from '../test/support/secrets';
import { removeTempDirs, tempDir } from '../test/support/temporal';
import { startToxiproxy, Toxiproxy } from './toxiproxy';
import { productionTools } from '../test/support/productionServer';
import { BUNDLE_BYTES, FAULTS, FaultPoint, FULL_RUN, Observed, seeded, SHORT_RUN } from './faults';

const TASK_QUEUE = 'relflow';
const BUILD_TASK_QUEUE = 'relflow-builds';
/** After a worker dies, its release must go on on another worker within this. */
const RESUME_LIMIT_MS = 30_000;
/** Each request to the git remotes is held this long, as a remote host's round trips hold it. */
const GIT_DELAY_MS = 250;
const STAGE_ORDER: string[] = [...STAGES, 'done'];

export interface FaultRow {
  fault: string;
  stage: string;
  when: string;
  outcome: string;
  passed: boolean;
}

export interface CheckRow {
  check: string;
  passed: boolean;
  detail: string;
  duplicates: number;
}

export interface ChaosReport {
  seed: number;
  releases: string[];
  faults: FaultRow[];
  checks: CheckRow[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The product: the demo's repositories over smart HTTP, 2 local and 2 ec2 artifacts, every publishing stage on. */
function chaosManifest(gitUrl: string, remotes: string) {
  return (manifest: ManifestInput): ManifestInput => ({
    ...manifest,
    repositories: manifest.repositories.map((repository) => ({
      ...repository,
      url: `${gitUrl}/${repository.url.slice(remotes.length + 1)}`,
    })),
    artifacts: [
      { name: 'cloudify-ui', repository: 'cloudify-ui', command: 'sleep 6 && ./build.sh', outputs: ['cloudify-ui.tgz'] },
      // Large enough for a multipart upload (16 MiB parts).
      {
        name: 'bundle',
        repository: 'cloudify-manager',
        command: `head -c ${BUNDLE_BYTES} /dev/urandom > bundle.bin`,
        outputs: ['bundle.bin'],
      },
      ...['centos', 'ubuntu'].map((os) => ({
        name: `agent-${os}`,
        repository: 'cloudify-manager',
        builder: 'ec2' as const,
        command: `mkdir -p dist && echo "agent ${os} $RELFLOW_VERSION" > dist/agent-${os}.txt && sleep 30 && tar czf dist/agent-${os}.tar.gz dist/agent-${os}.txt`,
        outputs: [`dist/agent-${os}.tar.gz`],
        ec2: { imageId: 'ami-12c6146b' },
      })),
    ],
    ec2: {
      endpoint: manifest.storage?.endpoint,
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
      pollInterval: '1s',
    },
    systemTests: { ...manifest.systemTests!, command: `sleep 4 && ${manifest.systemTests!.command}` },
  });
}

interface Run {
  topology: ProductionTopology;
  toxiproxy: Toxiproxy;
  fixture: GaFixture;
  releaseId: string;
  observed: Observed;
  /** Fault points still to come: the driver holds CI and the PyPI gate for them. */
  ahead: FaultPoint[];
}

async function releaseState(run: Run): Promise<ReleaseState | undefined> {
  return run.topology.client.workflow
    .getHandle(run.releaseId)
    .query(releaseStateQuery)
    .catch(() => undefined);
}

/** Plays the release engineer: CI goes green and the gates are approved, unless a fault is waiting for that point. */
function drive(run: Run): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const state = await releaseState(run);
      if (state && !run.ahead.some((point) => point.stage === 'ci' && point.kind === 'worker')) {
        for (const name of DEMO_REPOSITORIES) run.fixture.ciStates[name] = 'success';
      }
      for (const gate of state?.gates ?? []) {
        const held = run.ahead.some((point, index) => point.holdsGate === gate.name || (point.afterGate === gate.name && index > 0));
        if (gate.status !== 'open' || held) continue;
        await decideGate(run.topology.client, run.releaseId, { gate: gate.name, by: 'alice' }, true).catch(() => undefined);
      }
      await sleep(300);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Waits for the point's activity; undefined when the release went past the point's stage first. */
async function reach(run: Run, point: FaultPoint): Promise<RunningActivity | undefined> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    // Children (artifact builds) only where the point is in one: the release alone is one quick call.
    const ids =
      point.stage === 'artifacts'
        ? await releaseWorkflowIds(run.topology.client, run.releaseId).catch(() => [run.releaseId])
        : [run.releaseId];
    const found = (await runningActivities(run.topology.client, ids, point.scheduled).catch(() => [])).find((activity) =>
      point.match(activity, run.observed),
    );
    if (found) return found;
    const state = await releaseState(run);
    if (state && (!['running', 'waiting'].includes(state.status) || STAGE_ORDER.indexOf(state.stage) > STAGE_ORDER.indexOf(point.stage)))
      return undefined;
    await sleep(50);
  }
  return undefined;
}

async function gateOpen(run: Run, gate: string): Promise<boolean> {
  for (let index = 0; index < 3000; index += 1) {
    const state = await releaseState(run);
    if (state?.gates.some((candidate) => candidate.name === gate && candidate.status === 'open')) return true;
    if (state && state.status !== 'running') return false;
    await sleep(100);
  }
  return false;
}

async function strike(run: Run, point: FaultPoint, random: () => number): Promise<FaultRow> {
  const row = { fault: point.kind === 'worker' ? 'worker SIGKILL' : point.name.split(' ')[0], stage: point.stage };
  if (point.holdsGate) {
    if (!(await gateOpen(run, point.holdsGate))) return { ...row, when: 'the PyPI gate never opened', outcome: 'missed', passed: false };
    const started = Date.now();
    run.topology.server.kill();
    await sleep(1000);
    await run.topology.server.start();
    const state = await releaseState(run);
    const open = state?.gates.some((gate) => gate.name === 'pypi' && gate.status === 'open') ?? false;
    return {
      ...row,
      when: 'waiting at the PyPI gate',
      outcome: `server back in ${seconds(Date.now() - started)}, gate still open: ${open}`,
      passed: open,
    };
  }
  if (point.slowGitMs) run.observed.slowGit(point.slowGitMs);
  const activity = await reach(run, point);
  if (point.slowGitMs) run.observed.slowGit(GIT_DELAY_MS);
  if (!activity) return { ...row, when: point.name, outcome: 'missed: the release went past this point first', passed: false };
  await sleep(Math.floor(random() * 100));
  const when = `${point.name} (${activity.type}, attempt ${activity.attempt})`;
  if (point.kind === 'worker') {
    const worker = run.topology.workers.find((candidate) => candidate.process && activity.identity.startsWith(`${candidate.process.pid}@`));
    const killedAt = Date.now();
    // Its worker may have died already: a kill meant for the previous point that landed after that activity ended.
    if (worker) run.topology.killWorker(worker);
    // Started again at once, as a supervisor restarts it: its new process is another worker.
    const restarted = worker ? run.topology.startWorker(worker) : Promise.resolve();
    const resumed = await resumedAfter(run.topology.client, activity, killedAt, 120_000).catch((error: Error) => ({
      ms: -1,
      by: error.message,
    }));
    await restarted;
    const who = worker ? `${worker.name} killed` : `its worker ${activity.identity} had died already`;
    const outcome =
      resumed.ms < 0
        ? (resumed.by ?? 'did not resume')
        : resumed.ms < 1000 && !resumed.by
          ? `${who}; the activity had ended as the kill landed`
          : `${who}; went on ${resumed.by ? `on ${resumed.by} ` : ''}after ${seconds(resumed.ms)}`;
    return { ...row, when, outcome, passed: resumed.ms >= 0 && resumed.ms < RESUME_LIMIT_MS };
  }
  if (point.network) {
    const { proxy, toxic, forMs } = point.network;
    await run.toxiproxy.add(proxy, toxic);
    await sleep(forMs);
    await run.toxiproxy.remove(proxy, toxic.name);
    return { ...row, fault: `network ${toxic.type}`, when, outcome: `${proxy}: ${toxic.type} for ${seconds(forMs)}`, passed: true };
  }
  const started = Date.now();
  if (point.kind === 'server') {
    run.topology.server.kill();
    await sleep(1000);
    await run.topology.server.start();
  } else {
    run.topology.postgres.stop('immediate');
    await sleep(2000);
    run.topology.postgres.start();
  }
  return { ...row, when, outcome: `back in ${seconds(Date.now() - started)}`, passed: true };
}

/** Whether `dir` (searched a few levels down) holds a regular file `name` of `size` bytes. */
function holdsFile(dir: string, name: string, size: number, depth = 4): boolean {
  if (depth < 0 || !existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) =>
    entry.isDirectory()
      ? holdsFile(join(dir, entry.name), name, size, depth - 1)
      : entry.isFile() && entry.name === name && statSync(join(dir, entry.name)).size === size,
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function startRelease(topology: ProductionTopology, fixture: GaFixture, kind: ReleaseKind, version?: string): Promise<string> {
  const prepared = await prepareRelease({
    kind,
    configFile: fixture.config,
    version,
    date: '20261128',
    taskQueue: TASK_QUEUE,
    buildTaskQueue: BUILD_TASK_QUEUE,
  });
  const { plan } = await startPreparedRelease(topology.client, prepared);
  return plan.releaseId;
}

/** Every effect of the release, counted with plain tools. */
async function verify(run: Run, s3: S3Client, ec2: EC2Client, remotes: string): Promise<CheckRow[]> {
  const checks: CheckRow[] = [];
  const add = (check: string, passed: boolean, detail: string, duplicates = 0) => checks.push({ check, passed, detail, duplicates });
  const handle = run.topology.client.workflow.getHandle(run.releaseId);
  const state = (await handle.result()) as ReleaseState;
  add(`${run.releaseId}: status`, state.status === 'succeeded', state.status);
  // git: one version commit per repository, its tag pointing at it.
  const subject = `Release ${run.fixture.product} ${state.releaseName}`;
  let extraCommits = 0;
  const gitProblems: string[] = [];
  for (const repository of state.repositories) {
    const remote = join(remotes, `${repository.name}.git`);
    const commits = git(remote, 'log', '--all', '--format=%H %s')
      .split('\n')
      .filter((line) => line.endsWith(` ${subject}`));
    extraCommits += Math.max(0, commits.length - 1);
    const tagged = repository.tag ? git(remote, 'rev-list', '-n', '1', repository.tag) : '';
    if (commits.length !== 1 || commits[0].split(' ')[0] !== tagged)
      gitProblems.push(`${repository.name}: ${commits.length} commits, tag ${repository.tag}`);
  }
  add(
    `${run.releaseId}: one version commit and one tag per repository`,
    gitProblems.length === 0,
    gitProblems.join('; ') || `${state.repositories.length} repositories`,
    extraCommits,
  );
  // The bucket, versioned: each key holds one object version; every sidecar matches its object.
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: run.fixture.bucket }));
  const byKey = new Map<string, number>();
  for (const version of versions.Versions ?? []) byKey.set(version.Key ?? '', (byKey.get(version.Key ?? '') ?? 0) + 1);
  // The build counter is written once per release, each with the next number; every other key once.
  const counterKey = buildCounterKey(run.fixture.product);
  const counter = byKey.has(counterKey)
    ? (JSON.parse(
        await (await s3.send(new GetObjectCommand({ Bucket: run.fixture.bucket, Key: counterKey }))).Body!.transformToString(),
      ) as { releases: Record<string, number> })
    : { releases: {} };
  const numbers = Object.values(counter.releases);
  add(
    `${run.fixture.bucket}: the build counter written once per release, no number twice`,
    byKey.get(counterKey) === numbers.length && new Set(numbers).size === numbers.length && counter.releases[run.releaseId] !== undefined,
    `${byKey.get(counterKey) ?? 0} writes for ${numbers.length} releases; ${run.releaseId} is build ${counter.releases[run.releaseId]}`,
  );
  const written = [...byKey.entries()].filter(([key, count]) => count > 1 && key !== counterKey);
  add(
    `${run.fixture.bucket}: every key written once`,
    written.length === 0,
    written.map(([key, count]) => `${key} x${count}`).join(', ') || `${byKey.size} keys`,
    written.reduce((sum, [, count]) => sum + count - 1, 0),
  );
  // The preflight's write probe is deleted at once: a delete marker is its latest version.
  const deleted = new Set((versions.DeleteMarkers ?? []).filter((marker) => marker.IsLatest).map((marker) => marker.Key ?? ''));
  const sidecarProblems: string[] = [];
  let secretsInObjects = 0;
  for (const key of byKey.keys()) {
    if (key.endsWith('.sha256') || key.endsWith('.md5') || deleted.has(key)) continue;
    const body = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: run.fixture.bucket, Key: key }))).Body!.transformToByteArray(),
    );
    if (body.length < 1_000_000 && Object.values(FIXTURE_SECRETS).some((secret) => secret.length > 8 && body.includes(secret)))
      secretsInObjects += 1;
    // relflow's own records (which build stored what, the build counter) have no sidecar; every published file does.
    if (key.includes('/.relflow-builds/') || key.startsWith('.relflow/')) continue;
    const sidecar = byKey.has(`${key}.sha256`)
      ? await (await s3.send(new GetObjectCommand({ Bucket: run.fixture.bucket, Key: `${key}.sha256` }))).Body!.transformToString()
      : '';
    if (!sidecar.startsWith(createHash('sha256').update(body).digest('hex'))) sidecarProblems.push(key);
  }
  add(
    `${run.fixture.bucket}: every .sha256 sidecar present and matching`,
    sidecarProblems.length === 0,
    sidecarProblems.join(', ') || 'all match',
  );
  // PyPI: the files of this version, once each.
  const published = state.repositories.flatMap((repository) => repository.published ?? []);
  const packages = readdirSync(join(run.fixture.root, 'packages'));
  const missing = published.filter((file) => !packages.includes(file));
  if (state.kind === 'nightly') add('PyPI: a nightly publishes nothing', published.length === 0, published.join(', ') || 'nothing');
  else
    add(
      `PyPI: ${published.length} files`,
      published.length > 0 && missing.length === 0,
      missing.join(', ') || packages.filter((file) => published.includes(file)).join(', '),
    );
  // One announcement email and one webhook call.
  const mails = run.fixture.inbox.mails.filter((mail) => (mail.subject ?? '').includes(`release ${state.releaseName}`));
  add(`${run.releaseId}: one announcement email`, mails.length === 1, `${mails.length} received`, Math.max(0, mails.length - 1));
  const calls = run.fixture.hooks.requests.filter((request) => request.body.includes(`release ${state.releaseName}`));
  add(`${run.releaseId}: one webhook call`, calls.length === 1, `${calls.length} received`, Math.max(0, calls.length - 1));
  // No machine left running.
  const instances = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:relflow:release', Values: [run.releaseId] },
        { Name: 'instance-state-name', Values: ['pending', 'running'] },
      ],
    }),
  );
  const left = (instances.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []).length;
  add(`${run.releaseId}: no EC2 instance pending or running`, left === 0, `${left} left`);
  // No build directory left on any worker.
  const buildDirs = run.topology.workers
    .map((worker) => join(worker.workspace, 'builds', run.releaseId))
    .filter((dir) => existsSync(dir) && readdirSync(dir).length > 0);
  add(`${run.releaseId}: no build directory left on a worker`, buildDirs.length === 0, buildDirs.join(', ') || 'none');
  // No planted secret in any history, worker log, email or stored object.
  const histories = await Promise.all(
    (await releaseWorkflowIds(run.topology.client, run.releaseId)).map(async (id) =>
      JSON.stringify(await run.topology.client.workflow.getHandle(id).fetchHistory()),
    ),
  );
  const places = [...histories, run.topology.workerLogs(), ...mails.map((mail) => `${mail.text ?? ''}${mail.html || ''}`)];
  const secrets = [...Object.values(FIXTURE_SECRETS).filter((secret) => secret.length > 8), MOTO_ENV.TEST_AWS_SECRET];
  const found = secrets.filter((secret) => places.some((place) => place.includes(secret)));
  add(
    `${run.releaseId}: no secret in histories, logs, mail or objects`,
    found.length === 0 && secretsInObjects === 0,
    found.length + secretsInObjects === 0 ? `${histories.length} histories` : `${found.length} secrets found`,
  );
  return checks;
}

export async function runChaos(options: {
  seed: number;
  short: boolean;
  log?: (line: string) => void;
  /** The test suite's shared server; `npm run chaos` boots its own. */
  shared?: SystemServer;
}): Promise<ChaosReport> {
  useTestSecrets();
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const random = seeded(options.seed);
  const root = tempDir('chaos');
  const remotes = join(root, 'product', 'remotes');
  // The remotes are served over smart HTTP, each request held as a remote host's round trips hold it.
  const gitServer = await startGitHttpServer(remotes, { delayMs: GIT_DELAY_MS });
  // The workers reach git, S3 (and EC2) and SMTP through toxiproxy; the suite's own checks go direct.
  const toxiproxy = await startToxiproxy(productionTools().toxiproxy);
  const gitProxy = await toxiproxy.proxy('git', new URL(gitServer.url).host);
  const fixture = await createGaFixture(root, {
    product: 'chaos',
    mailDelayMs: 3000,
    docsBuildMs: 3000,
    adjust: chaosManifest(`http://${gitProxy}`, remotes),
  });
  const s3Proxy = await toxiproxy.proxy('s3', new URL(fixture.endpoint).host);
  const smtpProxy = await toxiproxy.proxy('smtp', `127.0.0.1:${fixture.inbox.port}`);
  const manifest = parse(readFileSync(fixture.config, 'utf8')) as ManifestInput;
  manifest.storage = { ...manifest.storage!, endpoint: `http://${s3Proxy}` };
  manifest.ec2 = { ...manifest.ec2, endpoint: `http://${s3Proxy}` };
  manifest.notifications!.email!.smtp = { ...manifest.notifications!.email!.smtp!, port: Number(smtpProxy.split(':')[1]) };
  writeFileSync(fixture.config, stringify(manifest));
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: fixture.endpoint,
    forcePathStyle: true,
    // A multipart object's checksum is a checksum of its parts' checksums: the check below hashes whole objects itself.
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: MOTO_ENV.TEST_AWS_KEY, secretAccessKey: MOTO_ENV.TEST_AWS_SECRET },
  });
  await s3.send(new PutBucketVersioningCommand({ Bucket: fixture.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const ec2 = new EC2Client({
    region: 'us-east-1',
    endpoint: fixture.endpoint,
    credentials: { accessKeyId: MOTO_ENV.TEST_AWS_KEY, secretAccessKey: MOTO_ENV.TEST_AWS_SECRET },
  });
  const machines = playMachines(ec2);
  log('starting the production topology (PostgreSQL, Temporal server, 2 release and 2 build workers)');
  const topology = await startProductionTopology({
    taskQueue: TASK_QUEUE,
    buildTaskQueue: BUILD_TASK_QUEUE,
    env: fixture.env,
    shared: options.shared,
  });
  // Interrupted (Ctrl-C), it still stops the server, the workers, its PostgreSQL cluster and the services.
  const interrupted = () =>
    void topology
      .stop()
      .finally(() => {
        toxiproxy.stop();
        stopServices();
      })
      .finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const report: ChaosReport = { seed: options.seed, releases: [], faults: [], checks: [], seconds: 0 };
  try {
    const plans = (options.short ? SHORT_RUN : FULL_RUN).map((plan) => ({
      ...plan,
      points: plan.faults.map((name) => FAULTS.find((point) => point.name === name) as FaultPoint),
    }));
    for (const plan of plans) {
      for (const name of DEMO_REPOSITORIES) delete fixture.ciStates[name];
      const releaseId = await startRelease(topology, fixture, plan.kind, plan.version);
      report.releases.push(releaseId);
      log(`${releaseId}: started, ${plan.points.length} faults to come`);
      const observed: Observed = {
        pushesInFlight: () => gitServer.pushesInFlight(),
        slowGit: (ms) => gitServer.setDelay(ms),
        builtFile: (name, size) => topology.workers.some((worker) => holdsFile(join(worker.workspace, 'builds', releaseId), name, size)),
      };
      const run: Run = { topology, toxiproxy, fixture, releaseId, observed, ahead: [...plan.points] };
      const driver = drive(run);
      try {
        while (run.ahead.length > 0) {
          const point = run.ahead[0];
          const row = await strike(run, point, random);
          run.ahead.shift();
          report.faults.push(row);
          log(`${row.passed ? 'ok  ' : 'FAIL'} ${row.fault} ${row.when}: ${row.outcome}`);
        }
        await topology.client.workflow.getHandle(releaseId).result();
      } finally {
        await driver.stop();
      }
      report.checks.push(...(await verify(run, s3, ec2, remotes)));
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await machines.stop();
    await topology.stop();
    await fixture.close();
    await gitServer.close();
    toxiproxy.stop();
  }
  report.seconds = Math.round((Date.now() - started) / 1000);
  return report;
}

export function formatReport(report: ChaosReport): string {
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
    const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
    return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
  };
  const duplicates = report.checks.reduce((sum, check) => sum + check.duplicates, 0);
  return [
    `chaos run, seed ${report.seed}: ${report.releases.join(', ')}`,
    '',
    table(
      ['fault', 'stage', 'when', 'outcome', 'passed'],
      report.faults.map((row) => [row.fault, row.stage, row.when, row.outcome, row.passed ? 'yes' : 'NO']),
    ),
    '',
    table(
      ['check', 'outcome', 'duplicates', 'passed'],
      report.checks.map((check) => [
        check.check,
        check.detail.length > 100 ? `${check.detail.slice(0, 97)}...` : check.detail,
        String(check.duplicates),
        check.passed ? 'yes' : 'NO',
      ]),
    ),
    '',
    `faults: ${report.faults.filter((row) => row.passed).length}/${report.faults.length} passed; checks: ${report.checks.filter((check) => check.passed).length}/${report.checks.length} passed; duplicates: ${duplicates}; ${report.seconds} s`,
  ].join('\n');
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

if (require.main === module) {
  const seed = Number(option('seed') ?? Date.now() % 100_000);
  runChaos({ seed, short: process.argv.includes('--short'), log: (line) => process.stdout.write(`[chaos] ${line}\n`) })
    .then((report) => {
      process.stdout.write(`\n${formatReport(report)}\n`);
      stopServices();
      const failed = report.faults.some((row) => !row.passed) || report.checks.some((check) => !check.passed);
      // A failed run keeps its directory (remotes, workspaces, logs) to look at.
      if (!failed) removeTempDirs();
      process.exitCode = failed ? 1 : 0;
    })
    .catch((error: Error) => {
      process.stderr.write(`chaos run failed: ${error.stack ?? error.message}\n`);
      stopServices();
      process.exitCode = 1;
    });
}
