import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../config/manifest';
import { mapWithLimit } from '../release/concurrency';
import type { StoredFile } from '../release/model';
import { type GitWorkspace, gitEnvironment, remoteRefs, runGit } from './gitWorkspace';
import { holdsReleaseKey, RELEASE_SIGNATURE_NAMESPACE, signedByReleaseKey } from './releaseSigning';
import { isStoredEverywhere, readStoredText } from './storage';

export interface ReleasedWorkInput {
  repositories: { name: string; url: string; tag: string; buildBranch: string }[];
  /** The manifest's artifacts: each must have files in artifacts.json. */
  artifacts: string[];
  tokenEnv?: string;
  parallelism: number;
  storage: NonNullable<Manifest['storage']>;
  /** Storage key prefix of the release (keys are prefix + file name). */
  keyPrefix: string;
}

/** Work an earlier run of this release finished: each repository's tagged commit, and every file artifacts.json lists. */
export interface ReleasedWork {
  commits: Record<string, string>;
  files: StoredFile[];
  /** The build number the earlier run had (its files are named with it). */
  build?: number;
}

/**
 * Whether an earlier run of this release did all its work up to the artifacts:
 * every repository's release tag is on its remote, at the head of its build
 * branch or at a commit this worker's mirror shows is on it (one ls-remote per
 * repository), and artifacts.json is stored with every file it lists in place
 * with its sha256 on every target. Anything less is undefined: the release
 * then runs its stages, each of which finds and keeps what is already done.
 */
export async function findReleasedWork(
  workspace: GitWorkspace,
  input: ReleasedWorkInput,
  env: NodeJS.ProcessEnv,
): Promise<ReleasedWork | undefined> {
  const listing = await readStoredText(input.storage, `${input.keyPrefix}artifacts.json`, env);
  if (!listing) return undefined;
  const commits = await mapWithLimit(input.repositories, input.parallelism, async (repository) => {
    const tag = `refs/tags/${repository.tag}`;
    const branch = `refs/heads/${repository.buildBranch}`;
    const refs = await remoteRefs(repository.url, [tag, `${tag}^{}`, branch], env, input.tokenEnv);
    const tagged = refs.get(`${tag}^{}`) ?? refs.get(tag);
    const head = refs.get(branch);
    if (!tagged || !head) return undefined;
    if (tagged === head) return tagged;
    // A branch that moved on since the release: its mirror here may show the tagged commit is on it (no fetch for a shortcut).
    const mirror = workspace.mirrorDir(repository.name, repository.url);
    if (!existsSync(join(mirror, 'HEAD'))) return undefined;
    const onBranch = await runGit(mirror, ['merge-base', '--is-ancestor', tagged, head], gitEnvironment(env)).then(
      () => true,
      () => false,
    );
    return onBranch ? tagged : undefined;
  });
  if (commits.some((commit) => commit === undefined)) return undefined;
  let files: StoredFile[];
  let build: number | undefined;
  try {
    ({ files, build } = JSON.parse(listing) as { files: StoredFile[]; build?: number });
  } catch {
    return undefined;
  }
  if (!Array.isArray(files) || !input.artifacts.every((artifact) => files.some((file) => file.name === artifact))) return undefined;
  if (!(await coveredBySignedSums(input, listing, files, env))) return undefined;
  const stored = await mapWithLimit(files, input.parallelism, (file) =>
    isStoredEverywhere(input.storage, `${input.keyPrefix}${file.file}`, file, env),
  );
  if (stored.includes(false)) return undefined;
  return {
    commits: Object.fromEntries(input.repositories.map((repository, index) => [repository.name, commits[index] as string])),
    files,
    ...(Number.isInteger(build) ? { build } : {}),
  };
}

/**
 * Where the workers hold the release key, an earlier run's artifacts.json counts
 * only if the SHA256SUMS that key signed lists it and every file it names with
 * the same sha256: anyone who writes the bucket can write a listing.
 */
async function coveredBySignedSums(
  input: ReleasedWorkInput,
  listing: string,
  files: StoredFile[],
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  if (!holdsReleaseKey(env)) return true;
  const sums = await readStoredText(input.storage, `${input.keyPrefix}SHA256SUMS`, env);
  const signature = await readStoredText(input.storage, `${input.keyPrefix}SHA256SUMS.sig`, env);
  if (!sums || !(await signedByReleaseKey(sums, signature, env, RELEASE_SIGNATURE_NAMESPACE))) return false;
  const lines = new Set(sums.split('\n'));
  const listed = [{ file: 'artifacts.json', sha256: createHash('sha256').update(listing).digest('hex') }, ...files];
  return listed.every((file) => lines.has(`${file.sha256}  ${file.file}`));
}

export function createReleasedWorkActivities(workspace: GitWorkspace, env: NodeJS.ProcessEnv) {
  return {
    findReleasedWork: (input: ReleasedWorkInput) => findReleasedWork(workspace, input, env),
  };
}
