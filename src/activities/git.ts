import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { GitError } from 'simple-git';
import type { RepositoryPlan } from '../release/plan';
import type { TemplateValues } from '../release/template';
import { UserError } from '../release/errors';
import { applyVersionRules, ConcreteRule, FileChange, SourceFile } from '../release/versionRules';
import { GitOptions, GitRepo, GitWorkspace } from './gitWorkspace';

export interface RepositoryRef {
  releaseId: string;
  repository: RepositoryPlan;
  /** The environment variable holding an https token for the remotes. */
  tokenEnv?: string;
}

export interface CheckoutResult {
  baseSha: string;
  /** Whether the mirror already existed (a warm workspace). */
  warm: boolean;
}

export interface VersionCommitInput extends RepositoryRef {
  baseSha: string;
  rules: ConcreteRule[];
  values: TemplateValues;
  author: { name: string; email: string };
  message: string;
}

export interface VersionCommitResult {
  /** The head of the build branch on the remote after the push. */
  headSha: string;
  changedFiles: string[];
  /** False when the remote already held the version changes (a re-run). */
  committed: boolean;
}

export interface TagInput extends RepositoryRef {
  tag: string;
  sha: string;
  message: string;
  author: { name: string; email: string };
}

export interface TagResult {
  tag: string;
  sha: string;
  /** False when the tag was already on the remote at that commit. */
  created: boolean;
}

const MISSING_REMOTE = /(does not appear to be a git repository|repository .* not found|Repository not found|Could not read from remote repository|not found)/i;
const REJECTED_PUSH = /(\[rejected\]|non-fast-forward|fetch first|failed to push some refs|already exists)/i;
const MAX_PUSH_ATTEMPTS = 5;

function lastLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? text;
}

/** A remote that does not exist or refuses us will not start working on a retry. */
export function describeGitFailure(error: unknown, what: string): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof UserError) return ApplicationFailure.nonRetryable(`${what}: ${error.message}`, 'InvalidRelease');
  if (error instanceof GitError && MISSING_REMOTE.test(error.message)) {
    return ApplicationFailure.nonRetryable(`${what}: ${lastLine(error)}`, 'GitRemoteNotFound');
  }
  return new Error(`${what}: ${lastLine(error)}`);
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Not inside an activity (a direct call from a test or the CLI).
  }
}

function gitOptions(tokenEnv?: string): GitOptions {
  let last = 0;
  return {
    tokenEnv,
    onProgress: ({ method, stage, progress }) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      heartbeat({ method, stage, progress });
    },
  };
}

/** The author of release commits and tags, as options of that one command (the working copy's config is left alone). */
function identity(author: { name: string; email: string }): string[] {
  return ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`];
}

async function revParse(git: GitRepo, ref: string): Promise<string | undefined> {
  const sha = (await git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim();
  return sha || undefined;
}

async function isAncestor(git: GitRepo, ancestor: string, descendant: string): Promise<boolean> {
  return git.raw(['merge-base', '--is-ancestor', ancestor, descendant]).then(
    () => true,
    () => false,
  );
}

/** The text files of a commit whose name some rule could match (what the version tool reads). */
export async function candidateFiles(git: Pick<GitRepo, 'raw'>, commit: string, rules: readonly ConcreteRule[]): Promise<SourceFile[]> {
  const types = rules.map((rule) => new RegExp(rule.type));
  const entries = (await git.raw(['ls-tree', '-r', '-z', '--long', commit])).split('\0').filter(Boolean);
  const files: SourceFile[] = [];
  for (const entry of entries) {
    const [meta, path] = entry.split('\t');
    const [, type, object, size] = meta.split(/\s+/);
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (type !== 'blob' || Number(size) > 4 * 1024 * 1024 || !types.some((pattern) => pattern.test(name))) continue;
    const content = await git.raw(['cat-file', 'blob', object]);
    if (!content.slice(0, 8000).includes('\0')) files.push({ path, content });
  }
  return files;
}

/** A commit of `changes` on top of `parent`, made in a scratch index (the working copy's own index and files are not touched). */
async function commitOnTop(git: GitRepo, parent: string, changes: FileChange[], input: { author: { name: string; email: string }; message: string }): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'relflow-commit-'));
  const index = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    await git.raw(['read-tree', parent], index);
    const modes = new Map(
      (await git.raw(['ls-files', '--stage', '-z', '--', ...changes.map((change) => change.path)], index))
        .split('\0')
        .filter(Boolean)
        .map((entry) => [entry.slice(entry.indexOf('\t') + 1), entry.split(' ')[0]] as const),
    );
    for (const [number, change] of changes.entries()) {
      const file = join(scratch, `file-${number}`);
      await writeFile(file, change.after);
      const blob = (await git.raw(['hash-object', '-w', '--', file])).trim();
      await git.raw(['update-index', '--add', '--cacheinfo', `${modes.get(change.path) ?? '100644'},${blob},${change.path}`], index);
    }
    const tree = (await git.raw(['write-tree'], index)).trim();
    return (await git.raw([...identity(input.author), 'commit-tree', tree, '-p', parent, '-m', input.message])).trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function remoteTagCommit(git: GitRepo, tag: string): Promise<string | undefined> {
  const output = await git.raw(['ls-remote', '--tags', 'origin', `refs/tags/${tag}`, `refs/tags/${tag}^{}`]);
  const lines = output.split('\n').filter(Boolean).map((line) => line.split('\t'));
  const peeled = lines.find(([, ref]) => ref === `refs/tags/${tag}^{}`);
  const direct = lines.find(([, ref]) => ref === `refs/tags/${tag}`);
  return (peeled ?? direct)?.[0];
}

export function createGitActivities(workspace: GitWorkspace) {
  const workingCopy = (input: RepositoryRef, fetch = true) =>
    workspace.workingCopy(input.releaseId, input.repository.name, input.repository.url, { ...gitOptions(input.tokenEnv), fetch });

  /** The working copy, fetched only when it lacks `sha` (another worker made it). */
  async function workingCopyWith(input: RepositoryRef, sha: string): Promise<GitRepo> {
    const git = await workingCopy(input, false);
    if (!(await revParse(git, sha))) await git.fetch();
    return git;
  }

  /**
   * Applies the version rules to the build branch's start point and commits
   * the changes, when there are any, on top of it. The start point is the remote
   * build branch when it exists (a re-run, or a patch branch), else the base SHA.
   * Files are read from and written to git objects, with no checkout: nothing
   * in a working tree can go stale, and nothing leaves the machine.
   */
  async function commitVersionChanges(input: VersionCommitInput): Promise<{ git: GitRepo; start: string; changes: FileChange[]; localHead: string }> {
    const { repository } = input;
    const git = await workingCopy(input);
    const remoteBuild = await revParse(git, `refs/remotes/origin/${repository.buildBranch}`);
    if (remoteBuild && !(await isAncestor(git, input.baseSha, remoteBuild))) {
      throw ApplicationFailure.nonRetryable(
        `${repository.name}: branch '${repository.buildBranch}' on ${repository.url} is at ${remoteBuild.slice(0, 12)}, which does not contain the release base ${input.baseSha.slice(0, 12)}; ` +
          'delete or rename that branch, or start the release again',
        'GitBranchDiverged',
      );
    }
    const start = remoteBuild ?? input.baseSha;
    const changes = applyVersionRules(repository.name, await candidateFiles(git, start, input.rules), input.rules, input.values);
    const localHead = changes.length === 0 ? start : await commitOnTop(git, start, changes, input);
    await git.raw(['update-ref', `refs/heads/${repository.buildBranch}`, localHead]);
    return { git, start, changes, localHead };
  }

  return {
    /** Clones or fetches the repository into the release's working copy  return {
    /** Clones or fetches the repository into the release's working copy; returns the base SHA. */
    async checkoutRepository(input: RepositoryRef): Promise<CheckoutResult> {
      const { repository } = input;
      const warm = existsSync(join(workspace.mirrorDir(repository.name, repository.url), 'HEAD'));
      try {
        const git = await workingCopy(input);
        const baseSha = await revParse(git, `refs/remotes/origin/${repository.baseBranch}`);
        if (!baseSha) {
          throw ApplicationFailure.nonRetryable(`${repository.name}: branch '${repository.baseBranch}' does not exist on ${repository.url}`, 'GitBranchNotFound');
        }
        return { baseSha, warm };
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: cannot fetch ${repository.url}`);
      }
    },

    commitVersionChanges,

    /**
     * The version stage of one repository: rules applied on the build branch,
     * one commit, pushed. Runs again safely at any point: a commit the remote
     * already holds is not made again; a remote that moved is fetched, checked
     * and retried, never forced.
     */
    async versionRepository(input: VersionCommitInput): Promise<VersionCommitResult> {
      const { repository } = input;
      try {
        for (let attempt = 1; ; attempt += 1) {
          const { git, start, changes, localHead } = await commitVersionChanges(input);
          heartbeat({ step: 'push', attempt });
          if (localHead === start && (await revParse(git, `refs/remotes/origin/${repository.buildBranch}`)) === start) {
            return { headSha: start, changedFiles: [], committed: false };
          }
          try {
            await git.raw(['push', '--porcelain', 'origin', `${localHead}:refs/heads/${repository.buildBranch}`]);
            return { headSha: localHead, changedFiles: changes.map((change) => change.path), committed: changes.length > 0 };
          } catch (error) {
            if (!REJECTED_PUSH.test(String(error)) || attempt >= MAX_PUSH_ATTEMPTS) throw error;
            // The remote moved between our fetch and our push: start over from what it holds now.
          }
        }
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: version commit on '${repository.buildBranch}'`);
      }
    },

    /** An annotated tag at `sha`, pushed. A tag already there at that commit is fine; at another commit it is an error. */
    async tagRepository(input: TagInput): Promise<TagResult> {
      const { repository, tag, sha } = input;
      try {
        const git = await workingCopyWith(input, sha);
        for (let attempt = 1; ; attempt += 1) {
          const existing = await remoteTagCommit(git, tag);
          if (existing === sha) return { tag, sha, created: false };
          if (existing) {
            throw ApplicationFailure.nonRetryable(
              `${repository.name}: tag '${tag}' already exists on ${repository.url} at ${existing.slice(0, 12)}, not at ${sha.slice(0, 12)}; ` +
                `to move it to the build branch run \`relflow retag ${input.releaseId} --repository ${repository.name}\``,
              'GitTagConflict',
            );
          }
          await git.raw([...identity(input.author), 'tag', '--force', '--annotate', '-m', input.message, '--', tag, sha]);
          try {
            await git.raw(['push', '--porcelain', 'origin', `refs/tags/${tag}:refs/tags/${tag}`]);
            return { tag, sha, created: true };
          } catch (error) {
            if (!REJECTED_PUSH.test(String(error)) || attempt >= MAX_PUSH_ATTEMPTS) throw error;
          }
        }
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: tag '${tag}'`);
      }
    },

    /**
     * Re-tagging as release engineers do it by hand: the tag moves to the head
     * of the build branch and is force-pushed. Only ever run on request.
     */
    async retagRepository(input: Omit<TagInput, 'sha'>): Promise<TagResult> {
      const { repository, tag } = input;
      try {
        const git = await workingCopy(input);
        const head = await revParse(git, `refs/remotes/origin/${repository.buildBranch}`);
        if (!head) throw ApplicationFailure.nonRetryable(`${repository.name}: branch '${repository.buildBranch}' does not exist on ${repository.url}`, 'GitBranchNotFound');
        if ((await remoteTagCommit(git, tag)) === head) return { tag, sha: head, created: false };
        await git.raw([...identity(input.author), 'tag', '--force', '--annotate', '-m', input.message, '--', tag, head]);
        await git.raw(['push', '--porcelain', '--force', 'origin', `refs/tags/${tag}:refs/tags/${tag}`]);
        return { tag, sha: head, created: true };
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: retag '${tag}'`);
      }
    },
  };
}

export type GitActivities = ReturnType<typeof createGitActivities>;
