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
  /** Storage key prefix of the release (keys are prefix + file name). */
  keyPrefix: string;
  timeoutMs: number;
  tokenEnv?: string;
  /** How soon a build on a dead worker is noticed (default 2 minutes). */
  heartbeatTimeout?: string;
}

export interface Machine {
  id: string;
  builder: string;
}
