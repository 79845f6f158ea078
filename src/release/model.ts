import type { RepositoryNotes } from './notes';
/** The release as plain data: what the workflow keeps, the query answers, activities and the CLI read. No Temporal here. */
import type { Manifest } from '../config/manifest';
import type { ReleaseKind } from './version';

export const STAGES = [
  'plan',
  'preflight',
  'checkout',
  'version',
  'tag',
  'ci',
  'specs',
  'artifacts',
  'system-tests',
  'pypi',
  'docs',
  'announce',
] as const;
export type StageName = (typeof STAGES)[number];

/** `rejected`: a gate stage whose gate was rejected or timed out, so it published nothing. */
export type ItemStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'waiting' | 'blocked' | 'rejected';

export interface ItemState {
  status: ItemStatus;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** Why a skipped item was skipped, or what a running one is doing. */
  detail?: string;
}

export interface StageState extends ItemState {
  name: StageName;
}

export interface RepositoryState extends ItemState {
  name: string;
  baseSha?: string;
  headSha?: string;
  buildBranch?: string;
  tag?: string;
  /** The commit the tag points at, once pushed. */
  tagSha?: string;
  changedFiles?: string[];
  /** The Python package its setup.py declares, when not the repository name (read at checkout). */
  packageName?: string;
  ci?: 'passed' | 'failed' | 'pending';
  published?: string[];
  /** The index page the published files are listed on (absent in releases recorded before it was kept). */
  publishedAt?: string;
  docs?: 'built' | 'failed';
  /** The ReadTheDocs build of the release version. */
  docsBuild?: { project: string; version: string; buildId: number; detail: string };
  /** The GitHub release of its tag (github.releases): a draft until the announce stage publishes it. */
  githubRelease?: { url: string; draft: boolean };
}

/** A file stored for the release, as listed in artifacts.json. */
export interface StoredFile {
  name: string;
  file: string;
  size: number;
  sha256: string;
  urls: string[];
}

export interface ArtifactState extends ItemState {
  name: string;
  builder: string;
  machineId?: string;
  files?: StoredFile[];
  /** The run of its build workflow, and whether it only found an earlier build of the commit (its provenance says so). */
  runId?: string;
  reused?: boolean;
}

export const GATES = ['pypi', 'docs'] as const;
export type GateName = (typeof GATES)[number];

export interface GateState {
  name: GateName;
  status: 'closed' | 'open' | 'approved' | 'rejected' | 'timed-out' | 'skipped';
  approvers: string[];
  openedAt?: string;
  decidedAt?: string;
  by?: string;
  comment?: string;
  /** The verified signer of the decision, when the gate takes signed decisions only. */
  signer?: GateSigner;
  /** The gate takes signed decisions only (the workers' trust file lists its signers): decide with --key. */
  signed?: boolean;
}

export type ReleaseStatus = 'running' | 'waiting' | 'blocked' | 'succeeded' | 'failed' | 'aborted' | 'cancelled';

export interface ReleaseState {
  releaseId: string;
  product: string;
  kind: ReleaseKind;
  releaseName?: string;
  /** The build number the release took (`-b274` in package names). */
  build?: number;
  status: ReleaseStatus;
  stage: StageName | 'done';
  stages: StageState[];
  repositories: RepositoryState[];
  artifacts: ArtifactState[];
  gates: GateState[];
  /** The stage the release waits on after its retries ran out. */
  blocked?: { stage: StageName; error: string; since: string; skippable: boolean };
  ci?: { passed: boolean; detail: string };
  systemTests?: { passed: boolean; tests: number; failures: number; skipped: number; detail: string };
  /** artifacts.json and the spec files, once uploaded. */
  stored: StoredFile[];
  /** What changed in each repository since the previous release of its line (RELEASE-NOTES.md). */
  notes?: RepositoryNotes[];
  /** Operator actions, in order: who did what and when. */
  log: { at: string; by: string; action: string }[];
  /** Every signal the release refused; the log keeps the first distinct ones only. */
  refusedSignals?: number;
  /** The manifest's source, when the release named it by reference. */
  manifest?: ManifestSource;
}

/** What `relflow start` (or a Schedule) sends. Never a secret: the manifest only names environment variables. */
/** A manifest named by reference: a file of the workers' trusted manifest source, at a ref, optionally pinned to its sha256. */
export interface ManifestRef {
  name: string;
  ref?: string;
  /** The sha256 the starter read: the worker refuses a manifest that changed since. */
  sha256?: string;
}

/** Where a release's manifest came from, as the worker read it. */
export interface ManifestSource {
  name: string;
  ref?: string;
  commit?: string;
  sha256: string;
}

export interface ReleaseRequest {
  /** The manifest itself (relflow start -c FILE; accepted by workers configured for inline manifests). */
  manifest?: Manifest;
  /** Or its name in the workers' trusted source, read by a worker when the release starts. */
  manifestRef?: ManifestRef;
  manifestFile?: string;
  kind: ReleaseKind;
  version?: string;
  pluginsVersion?: string;
  /** YYYYMMDD; nightlies started by a Schedule take the workflow's own date. */
  date?: string;
  /** Task queue of the artifact builds (default relflow-builds). */
  buildTaskQueue?: string;
  /** How soon a build whose worker died is noticed and run again (default 15 seconds: every activity heartbeats every 2 seconds). */
  buildHeartbeatTimeout?: string;
  /** Set when this release ID ran before and did not succeed: the run it continues and the base SHA each repository had there. */
  adopt?: { runId: string; baseShas: Record<string, string> };
}

export interface GateDecision {
  gate: GateName;
  by: string;
  comment?: string;
  /** When the decision was signed (ISO 8601), part of what is signed. */
  time?: string;
  /** An SSH signature (ssh-keygen -Y sign -n relflow-gate) of gateDecisionPayload: namespace, release, run, gate, decision. */
  signature?: string;
}

/** Who signed a gate decision, as the workers' allowed signers and ssh-keygen name them. */
export interface GateSigner {
  principal: string;
  fingerprint: string;
}

export type OperatorAction = 'retry' | 'skip' | 'abort';

export interface OperatorCommand {
  action: OperatorAction;
  by: string;
  reason?: string;
  /** When the command was signed (ISO 8601), part of what is signed. */
  time?: string;
  /** An SSH signature (ssh-keygen -Y sign -n relflow-operator) of operatorCommandPayload. */
  signature?: string;
}

/** Every workflow type the workers register (src/workflows/index.ts; a unit test holds them equal): their activities run for these only. */
export const WORKFLOW_TYPES = ['releaseWorkflow', 'artifactWorkflow', 'retagWorkflow', 'reapWorkflow', 'repositoryBatchWorkflow'] as const;

/** The name of the release's state query (workflows/api.ts defines it; an activity that reads a release names it). */
export const RELEASE_STATE_QUERY = 'release';

/** The failure type of a preflight that refused the manifest's source or a secret's destination: the release cannot skip it. */
export const TRUST_REFUSED = 'TrustRefused';
/** The preflight refused a manifest sent inside the request: everything it names, its notifications too, is the sender's. */
export const UNTRUSTED_MANIFEST = 'UntrustedManifest';
