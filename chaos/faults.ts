import type { RunningActivity } from '../test/support/runningActivity';
import type { Toxic } from './toxiproxy';

/** What the suite sees of the outside systems while the release runs (heartbeat details reach the server throttled). */
export interface Observed {
  /** Pushes the git server is receiving now. */
  pushesInFlight(): number;
  /** Holds each request to the git remotes this long from now on (a slower network to the git host). */
  slowGit(ms: number): void;
  /** Whether a worker's build directory of the release holds this file, complete (`size` bytes). */
  builtFile(name: string, size: number): boolean;
}

/** Where a fault strikes: the activity the release is running then, as the server reports it, and what is in flight. */
export interface FaultPoint {
  /** What the report calls it. */
  name: string;
  stage: string;
  kind: 'worker' | 'server' | 'postgres' | 'network';
  match: (activity: RunningActivity, observed: Observed) => boolean;
  /** For a network fault: the toxic put on a proxy (git, s3, smtp) for a while. */
  network?: { proxy: 'git' | 's3' | 'smtp'; toxic: Toxic; forMs: number };
  /** Also strike while the activity waits for its next attempt (an activity that polls by retrying). */
  scheduled?: boolean;
  /** The gate the release engineer must not approve until this fault has struck. */
  holdsGate?: string;
  /** The gate before this point's stage, approved only once this point is the next to strike. */
  afterGate?: string;
  /** Git requests held this long while the suite waits for this point (short git steps become catchable). */
  slowGitMs?: number;
}

/** The size of the bundle artifact: three 16 MiB parts of a multipart upload. */
export const BUNDLE_BYTES = 48 * 1024 * 1024;

const type = (name: string) => (activity: RunningActivity) => activity.type === name;
const artifact = (name: string, activityType: string) => (activity: RunningActivity) =>
  activity.type === activityType && activity.workflowId.endsWith(`/artifact/${name}`);

/** SIGKILL of the worker process running the activity, at points spread over every stage (in the order they come). */
export const WORKER_KILLS: FaultPoint[] = [
  { name: 'during checkout', stage: 'checkout', kind: 'worker', match: type('checkoutRepository') },
  {
    name: 'mid version commit',
    stage: 'version',
    kind: 'worker',
    match: (a, o) => a.type === 'versionRepository' && o.pushesInFlight() === 0,
    slowGitMs: 1000,
  },
  {
    name: 'mid version push',
    stage: 'version',
    kind: 'worker',
    match: (a, o) => a.type === 'versionRepository' && o.pushesInFlight() > 0,
    slowGitMs: 1000,
  },
  {
    name: 'mid tag push',
    stage: 'tag',
    kind: 'worker',
    match: (a, o) => a.type === 'tagRepository' && o.pushesInFlight() > 0,
    slowGitMs: 1000,
  },
  { name: 'during the CI wait', stage: 'ci', kind: 'worker', match: type('waitForCi') },
  { name: 'mid spec upload', stage: 'specs', kind: 'worker', match: type('uploadSpecs') },
  { name: 'mid local build', stage: 'artifacts', kind: 'worker', match: artifact('cloudify-ui', 'buildArtifact') },
  // The machine builds while its build worker looks at it every second (the last worker to look is killed).
  { name: 'mid ec2 build', stage: 'artifacts', kind: 'worker', match: artifact('agent-centos', 'checkMachineBuild'), scheduled: true },
  {
    name: 'mid multipart upload',
    stage: 'artifacts',
    kind: 'worker',
    // The build wrote its file: what the activity does now is the upload.
    match: (a, o) => a.workflowId.endsWith('/artifact/bundle') && a.type === 'buildArtifact' && o.builtFile('bundle.bin', BUNDLE_BYTES),
  },
  { name: 'during system tests', stage: 'system-tests', kind: 'worker', match: type('runSystemTests') },
  { name: 'while twine uploads', stage: 'pypi', kind: 'worker', match: type('publishPythonPackage') },
  { name: 'during the docs build', stage: 'docs', kind: 'worker', match: type('buildDocs'), afterGate: 'docs' },
  { name: 'while the email is sent', stage: 'announce', kind: 'worker', match: type('announceRelease') },
];

/** The Temporal server SIGKILLed (and started again on the same database), and PostgreSQL stopped at once. */
export const SERVER_KILLS: FaultPoint[] = [
  { name: 'server SIGKILL during checkout', stage: 'checkout', kind: 'server', match: type('checkoutRepository'), slowGitMs: 1500 },
  {
    name: 'server SIGKILL during artifacts',
    stage: 'artifacts',
    kind: 'server',
    match: artifact('agent-ubuntu', 'checkMachineBuild'),
    scheduled: true,
  },
  { name: 'PostgreSQL stop -m immediate during system tests', stage: 'system-tests', kind: 'postgres', match: type('runSystemTests') },
  { name: 'server SIGKILL at the PyPI gate', stage: 'pypi', kind: 'server', match: () => false, holdsGate: 'pypi' },
];

/** Transient network faults through toxiproxy, between the workers and the git remotes, S3 and SMTP. */
export const NETWORK_FAULTS: FaultPoint[] = [
  {
    name: 'git connection stalls mid version push',
    stage: 'version',
    kind: 'network',
    match: (a, o) => a.type === 'versionRepository' && o.pushesInFlight() > 0,
    // Data stops and the connection stays open: only git's low-speed limit ends the push.
    network: { proxy: 'git', toxic: { name: 'stall', type: 'timeout', attributes: { timeout: 0 } }, forMs: 5000 },
  },
  {
    name: 'S3 connections reset mid multipart upload',
    stage: 'artifacts',
    kind: 'network',
    match: (a, o) => a.workflowId.endsWith('/artifact/bundle') && a.type === 'buildArtifact' && o.builtFile('bundle.bin', BUNDLE_BYTES),
    network: { proxy: 's3', toxic: { name: 'reset', type: 'reset_peer', attributes: { timeout: 0 } }, forMs: 3000 },
  },
  {
    name: '2 s of latency on SMTP while the email is sent',
    stage: 'announce',
    kind: 'network',
    match: type('announceRelease'),
    network: { proxy: 'smtp', toxic: { name: 'slow', type: 'latency', attributes: { latency: 2000, jitter: 0 } }, forMs: 10_000 },
  },
];

/**
 * The releases of a run and their faults, in the order they strike. Faults of
 * one stage that would wait on each other (a worker's retry takes ~17 s) go to
 * different releases.
 */
export interface ReleasePlan {
  kind: 'ga' | 'milestone' | 'nightly';
  /** The version (a nightly's is its date's). */
  version?: string;
  faults: string[];
}

export const FULL_RUN: ReleasePlan[] = [
  {
    kind: 'ga',
    version: '3.4',
    faults: [
      'during checkout',
      'mid version commit',
      'mid tag push',
      'during the CI wait',
      'mid spec upload',
      'mid local build',
      'mid ec2 build',
      'during system tests',
      'while twine uploads',
      'during the docs build',
      'while the email is sent',
    ],
  },
  {
    kind: 'milestone',
    version: '3.5m1',
    faults: [
      'server SIGKILL during checkout',
      'mid version push',
      'mid multipart upload',
      'server SIGKILL during artifacts',
      'PostgreSQL stop -m immediate during system tests',
      'server SIGKILL at the PyPI gate',
    ],
  },
  {
    kind: 'nightly',
    faults: [
      'git connection stalls mid version push',
      'S3 connections reset mid multipart upload',
      '2 s of latency on SMTP while the email is sent',
    ],
  },
];

/** The short run of `npm test`: three worker kills and one server kill. */
export const SHORT_RUN: ReleasePlan[] = [
  { kind: 'ga', version: '3.4', faults: ['during checkout', 'mid local build', 'during system tests', 'server SIGKILL at the PyPI gate'] },
];

export const FAULTS: FaultPoint[] = [...WORKER_KILLS, ...SERVER_KILLS, ...NETWORK_FAULTS];

/** A small deterministic generator (mulberry32): `--seed N` replays the same points. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
