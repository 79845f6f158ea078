import type { ArtifactSpec, Manifest } from '../../config/manifest';

/** One artifact build of a release: everything a builder needs, no secrets. */
export interface BuildRequest {
  releaseId: string;
  artifact: ArtifactSpec;
  repository: { name: string; url: string };
  /** The commit to build: the tag's commit, or the build branch head for patches. */
  sha: string;
  version: string;
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
  /** How soon a build on a dead worker is noticed (default 2 minutes). */
  heartbeatTimeout?: string;
}

export interface Machine {
  id: string;
  builder: string;
}
