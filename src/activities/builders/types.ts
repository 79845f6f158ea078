import type { ArtifactSpec, Manifest } from '../../config/manifest';
import type { StoredFile } from '../../release/model';

/** One artifact build of a release: everything a builder needs, no secrets. */
export interface BuildRequest {
  releaseId: string;
  /** The plan's release ID, which owns the stored outputs (requests sent before it was have only the workflow's). */
  release?: string;
  artifact: ArtifactSpec;
  repository: { name: string; url: string };
  /** The commit to build: the tag's commit, or the build branch head for patches. */
  sha: string;
  version: string;
  /** The release's build number (RELFLOW_BUILD), when it has one. */
  build?: number;
  storage: NonNullable<Manifest['storage']>;
  /** Where ec2 builds start their machines. */
  ec2?: Manifest['ec2'];
  /** `<namespace>/<installation>`: the tag that tells this installation's machines from every other's. */
  installation?: string;
  /** Storage key prefix of the release (keys are prefix + file name). */
  keyPrefix: string;
  timeoutMs: number;
  tokenEnv?: string;
  /** The artifact workflow's run: a retried activity keeps its machine, an operator's retry (a new run) gets a new one. */
  runId?: string;
  /** How soon a build on a dead worker is noticed (default 15 seconds). */
  heartbeatTimeout?: string;
}

export interface Machine {
  id: string;
  builder: string;
}

/** The contract of every builder (local, ec2, vagrant): provision a place, build there (outputs stored), tear it down. */
export interface Builder {
  provision(request: BuildRequest): Promise<Machine>;
  /** Builds and stores the outputs; for a remote machine, waits for its report. */
  build(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]>;
  /** One look at a remote machine's build: its stored outputs, or a retryable failure while it builds. */
  checkBuild?(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]>;
  /** Idempotent: a machine already gone is fine. */
  tearDown(request: BuildRequest & { machine: Machine }): Promise<void>;
}
