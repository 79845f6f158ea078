import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { releasedTagAdvice, RepositoryPlan } from '../release/plan';
import type { ReleaseKind } from '../release/version';
import type { TemplateValues } from '../release/template';
import { UserError } from '../config/errors';
import { heartbeat } from './process';
import { MissingSecret, SecretNotAllowed } from './secrets';
import type { ConcreteRule } from '../release/versionRules';
import { declaredPackage } from '../release/siblings';
import { applyVersionRules, decodeSource, encodeSource, FileChange, SourceFile } from '../release/versionRewrite';
import { GitCommandError, GitRepo, GitWorkspace } from './gitWorkspace';

export interface RepositoryRef {
  releaseId: string;
  repository: RepositoryPlan;
  /** The environment variable holding an https token for the remotes. */
  tokenEnv?: string;
}

export interface CheckoutInput extends RepositoryRef {
  /**
   * The base SHA of an earlier run of this release (started again after it was
   * aborted or failed): kept when the remote build branch already holds it, so
   * the new run continues on what the earlier one pushed instead of forking it.
   */
  adoptBaseSha?: string;
  /**
   * The version rules, tried on the base commit without writing: a rule that
   * matches nothing or is not idempotent fails here, before anything is pushed.
   */
  versionRules?: { rules: ConcreteRule[]; values: TemplateValues };
}

export interface CheckoutResult {
  baseSha: string;
  /** True when the base SHA is the earlier run's (its build branch is continued). */
  adopted?: boolean;
  /** Whether the mirror already existed (a warm workspace). */
  warm: boolean;
  /** The Python package its setup.py declares, when that differs from the repository name: what siblings pin. */
  packageName?: string;
}

export interface VersionCommitInput extends RepositoryRef {
  baseSha: string;
  rules: ConcreteRule[];
  values: TemplateValues;
  author: { name: string; email: string };
  message: string;
  /** The release's tag, made on the version commit and pushed with the branch in one atomic push. */
  tag?: string;
}

export interface VersionCommitResult {
  /** The head of the build branch on the remote after the push. */
  headSha: string;
  changedFiles: string[];
  /** False when the remote already held the version changes (a re-run). */
  committed: boolean;
  /** The tag, when it was asked for and is on the remote at `headSha`; absent when the tag stage must see to it. */
  tagged?: TagResult;
  /** What the version rules could not check (a file that did not parse before the rewrite), each naming repository and file. */
  warnings?: string[];
}

export interface TagInput extends RepositoryRef {
  tag: string;
  /** The release kind, for the advice when the tag belongs to another release. */
  kind?: ReleaseKind;
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

const MISSING_REMOTE =
  /(does not appear to be a git repository|repository .* not found|Repository not found|Could not read from remote repository|not found)/i;
/** Credentials that git or the server refused: the same token will be refused again. */
const UNAUTHORIZED =
  /(Authentication failed|returned error: 40[13]|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey|Invalid username or password)/i;
const REJECTED_PUSH = /(\[rejected\]|non-fast-forward|fetch first|failed to push some refs|already exists)/i;
/** The remote's own refusal (a pre-receive or update hook, a protected branch): not a race, so not tried again. */
const REMOTE_REJECTED = /\[remote rejected\]/;
const MAX_PUSH_ATTEMPTS = 5;

function lastLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n').filter(Boolean).slice(-1)[0] ?? text;
}

/** A remote that does not exist or refuses us will not start working on a retry. */
export function describeGitFailure(error: unknown, what: string): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof MissingSecret || error instanceof SecretNotAllowed)
    return ApplicationFailure.nonRetryable(`${what}: ${error.message}`, error.name);
  if (error instanceof UserError) return ApplicationFailure.nonRetryable(`${what}: ${error.message}`, 'InvalidRelease');
  if (error instanceof GitCommandError && /returned error: 30[1278]/.test(error.message)) {
    return ApplicationFailure.nonRetryable(
      `${what}: the remote redirects (${lastLine(error).replace(/^.*returned error: /, 'HTTP ')}); with git.tokenEnv no redirect is followed, so the token never reaches another host: put the repository's new URL in the manifest`,
      'GitRedirected',
    );
  }
  if (error instanceof GitCommandError && UNAUTHORIZED.test(error.message)) {
    return ApplicationFailure.nonRetryable(
      `${what}: ${lastLine(error)} (check git.tokenEnv and the token's access to the repository)`,
      'GitUnauthorized',
    );
  }
  if (error instanceof GitCommandError && REMOTE_REJECTED.test(error.message)) {
    // What the remote said (its hook's lines, `remote: ...`) and why it rejected each ref, instead of git's last line.
    const lines = error.message.split('\n');
    const said = lines
      .filter((line) => line.startsWith('remote: '))
      .map((line) => line.slice(8).trim())
      .filter(Boolean);
    const why = [...new Set(lines.flatMap((line) => /\[remote rejected\] \((.+)\)/.exec(line)?.[1] ?? []))];
    return ApplicationFailure.nonRetryable(
      `${what}: the remote refused the push (${why.join('; ') || 'remote rejected'})${said.length ? `: ${said.slice(0, 10).join(' / ').slice(0, 600)}` : ''}`,
      'GitPushRefused',
    );
  }
  if (error instanceof GitCommandError && MISSING_REMOTE.test(error.message)) {
    return ApplicationFailure.nonRetryable(`${what}: ${lastLine(error)}`, 'GitRemoteNotFound');
  }
  return new Error(`${what}: ${lastLine(error)}`);
}

/** The author of release commits and tags, as options of that one command (the working copy's config is left alone). */
function identity(author: { name: string; email: string }): string[] {
  return ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`];
}

/**
 * The files of the release's version commit when `head` is one (made by the release's author with its
 * message on top of the base): what an earlier attempt of the version step changed; otherwise none.
 */
async function versionCommitFiles(git: GitRepo, head: string, input: VersionCommitInput): Promise<string[]> {
  if (head === input.baseSha) return [];
  const [email, parent, ...message] = (await git.raw(['log', '-1', '--format=%ae%n%P%n%B', head])).split('\n');
  if (email !== input.author.email || parent !== input.baseSha || message.join('\n').trim() !== input.message.trim()) return [];
  return (await git.raw(['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', head])).split('\0').filter(Boolean);
}

async function revParse(git: GitRepo, ref: string): Promise<string | undefined> {
  const sha = (await git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim();
  return sha || undefined;
}

/** The package the setup.py at the root of `commit` declares, when it names one other than the repository. */
export async function declaredPackageAt(git: Pick<GitRepo, 'raw'>, commit: string, repository: string): Promise<string | undefined> {
  const setupPy = await git.raw(['cat-file', 'blob', `${commit}:setup.py`]).catch(() => undefined);
  const name = setupPy === undefined || setupPy.length > 1024 * 1024 ? undefined : declaredPackage(setupPy);
  return name && name !== repository ? name : undefined;
}

async function isAncestor(git: GitRepo, ancestor: string, descendant: string): Promise<boolean> {
  return git.raw(['merge-base', '--is-ancestor', ancestor, descendant]).then(
    () => true,
    () => false,
  );
}

/** The text files of a commit whose name some rule could match (what the version tool reads), with their modes. */
export async function candidateFiles(
  git: Pick<GitRepo, 'raw' | 'rawBytes'>,
  commit: string,
  rules: readonly ConcreteRule[],
): Promise<(SourceFile & { mode: string })[]> {
  const types = rules.map((rule) => new RegExp(rule.type));
  const entries = (await git.raw(['ls-tree', '-r', '-z', '--long', commit])).split('\0').filter(Boolean);
  const wanted: { path: string; mode: string; object: string }[] = [];
  for (const entry of entries) {
    const [meta, path] = entry.split('\t');
    const [mode, type, object, size] = meta.split(/\s+/);
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (type === 'blob' && Number(size) <= 4 * 1024 * 1024 && types.some((pattern) => pattern.test(name)))
      wanted.push({ path, mode, object });
  }
  if (wanted.length === 0) return [];
  // One `cat-file --batch` for all of them: "<sha> blob <size>\n<content>\n" each, in order.
  const batch = await git.rawBytes(['cat-file', '--batch'], `${wanted.map((file) => file.object).join('\n')}\n`);
  const files: (SourceFile & { mode: string })[] = [];
  let offset = 0;
  for (const file of wanted) {
    const headerEnd = batch.indexOf(10, offset);
    const size = Number(batch.subarray(offset, headerEnd).toString('utf8').split(' ')[2]);
    const bytes = batch.subarray(headerEnd + 1, headerEnd + 1 + size);
    offset = headerEnd + 1 + size + 1;
    if (!bytes.subarray(0, 8000).includes(0)) files.push({ path: file.path, mode: file.mode, ...decodeSource(bytes) });
  }
  return files;
}

/** A path as fast-import reads it: C-style quoted, so any name (spaces, quotes, a leading quote) is taken as it is. */
function fastImportPath(path: string): string {
  const escaped = [...Buffer.from(path, 'utf8')]
    .map((byte) =>
      byte === 0x22
        ? '\\"'
        : byte === 0x5c
          ? '\\\\'
          : byte < 0x20 || byte >= 0x7f
            ? `\\${byte.toString(8).padStart(3, '0')}`
            : String.fromCharCode(byte),
    )
    .join('');
  return `"${escaped}"`;
}

/** `data` of fast-import: the byte count, then the bytes. */
function fastImportData(bytes: Buffer): Buffer[] {
  return [Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n')];
}

/**
 * The version commit (`changes` on top of `start`, when there are any) on
 * refs/heads/`branch`, and the release's annotated tag on it when asked: one
 * `git fast-import`, where the plumbing took seven processes (hash-object,
 * read-tree, update-index, write-tree, commit-tree, update-ref, tag). Nothing
 * in the working tree or the working copy's index is touched. Returns the head.
 */
async function writeVersionCommit(
  git: GitRepo,
  input: {
    start: string;
    changes: (FileChange & { mode: string })[];
    branch: string;
    tag?: string;
    author: { name: string; email: string };
    message: string;
  },
): Promise<string> {
  const ident = `${input.author.name} <${input.author.email}> ${Math.floor(Date.now() / 1000)} +0000`;
  // As `git commit-tree -m` and `git tag -m` store it: the message ends with a newline.
  const message = Buffer.from(input.message.endsWith('\n') ? input.message : `${input.message}\n`, 'utf8');
  const parts: Buffer[] = [];
  const line = (text: string) => parts.push(Buffer.from(`${text}\n`, 'utf8'));
  let head = input.start;
  if (input.changes.length > 0) {
    input.changes.forEach((change, number) => {
      line('blob');
      line(`mark :${number + 1}`);
      parts.push(...fastImportData(encodeSource(change)));
    });
    line(`commit refs/heads/${input.branch}`);
    line('mark :1000000');
    line(`author ${ident}`);
    line(`committer ${ident}`);
    parts.push(...fastImportData(message));
    line(`from ${input.start}`);
    input.changes.forEach((change, number) => line(`M ${change.mode} :${number + 1} ${fastImportPath(change.path)}`));
    line('');
    head = ':1000000';
  } else {
    line(`reset refs/heads/${input.branch}`);
    line(`from ${input.start}`);
    line('');
  }
  if (input.tag) {
    line(`tag ${input.tag}`);
    line(`from ${head}`);
    line(`tagger ${ident}`);
    parts.push(...fastImportData(message));
  }
  if (head !== input.start) line(`get-mark ${head}`);
  line('done');
  // --force: a retry moves the local branch and tag from an earlier attempt's commit.
  const output = await git.raw(['fast-import', '--quiet', '--force', '--done'], undefined, Buffer.concat(parts));
  return head === input.start ? input.start : (output.trim().split('\n').pop()?.trim() ?? '');
}

async function remoteTagCommit(git: GitRepo, tag: string): Promise<string | undefined> {
  const output = await git.raw(['ls-remote', '--tags', 'origin', `refs/tags/${tag}`, `refs/tags/${tag}^{}`]);
  const lines = output
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
  const peeled = lines.find(([, ref]) => ref === `refs/tags/${tag}^{}`);
  const direct = lines.find(([, ref]) => ref === `refs/tags/${tag}`);
  return (peeled ?? direct)?.[0];
}

export function createGitActivities(workspace: GitWorkspace) {
  const workingCopy = (input: RepositoryRef, fetch = true) =>
    workspace.workingCopy(input.releaseId, input.repository.name, input.repository.url, { tokenEnv: input.tokenEnv, fetch });

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
  async function commitVersionChanges(
    input: VersionCommitInput,
    fetch = true,
    tag?: string,
  ): Promise<{ git: GitRepo; start: string; remoteBuild?: string; changes: FileChange[]; warnings: string[]; localHead: string }> {
    const { repository } = input;
    const git = await workingCopy(input, fetch);
    const remoteBuild = await revParse(git, `refs/remotes/origin/${repository.buildBranch}`);
    if (remoteBuild && !(await isAncestor(git, input.baseSha, remoteBuild))) {
      throw ApplicationFailure.nonRetryable(
        `${repository.name}: branch '${repository.buildBranch}' on ${repository.url} is at ${remoteBuild.slice(0, 12)}, which does not contain the release base ${input.baseSha.slice(0, 12)}; ` +
          'delete or rename that branch, or start the release again',
        'GitBranchDiverged',
      );
    }
    const start = remoteBuild ?? input.baseSha;
    const files = await candidateFiles(git, start, input.rules);
    const { changes, warnings } = applyVersionRules(repository.name, files, input.rules, input.values);
    const modes = new Map(files.map((file) => [file.path, file.mode]));
    const localHead = await writeVersionCommit(git, {
      start,
      changes: changes.map((change) => ({ ...change, mode: modes.get(change.path) ?? '100644' })),
      branch: repository.buildBranch,
      tag,
      author: input.author,
      message: input.message,
    });
    return { git, start, remoteBuild, changes, warnings, localHead };
  }

  return {
    /** Clones or fetches the repository into the release's working copy  return {
    /** Clones or fetches the repository into the release's working copy; returns the base SHA. */
    async checkoutRepository(input: CheckoutInput): Promise<CheckoutResult> {
      const { repository, adoptBaseSha } = input;
      const warm = existsSync(join(workspace.mirrorDir(repository.name, repository.url), 'HEAD'));
      try {
        const git = await workingCopy(input);
        const baseSha = await revParse(git, `refs/remotes/origin/${repository.baseBranch}`);
        if (!baseSha) {
          throw ApplicationFailure.nonRetryable(
            `${repository.name}: branch '${repository.baseBranch}' does not exist on ${repository.url}`,
            'GitBranchNotFound',
          );
        }
        let result: CheckoutResult = { baseSha, warm };
        if (adoptBaseSha && /^[0-9a-f]{40}$/.test(adoptBaseSha) && adoptBaseSha !== baseSha) {
          const build = await revParse(git, `refs/remotes/origin/${repository.buildBranch}`);
          // Only a commit of the base branch that the build branch grew from: never a SHA from elsewhere.
          if (build && (await isAncestor(git, adoptBaseSha, build)) && (await isAncestor(git, adoptBaseSha, baseSha))) {
            result = { baseSha: adoptBaseSha, warm, adopted: true };
          }
        }
        const packageName = await declaredPackageAt(git, result.baseSha, repository.name);
        if (packageName) result.packageName = packageName;
        if (input.versionRules) {
          const { rules, values } = input.versionRules;
          const files = await candidateFiles(git, result.baseSha, rules);
          try {
            applyVersionRules(repository.name, files, rules, values);
          } catch (error) {
            if (error instanceof UserError) throw ApplicationFailure.nonRetryable(`version rules: ${error.message}`, 'InvalidRelease');
            throw error;
          }
        }
        return result;
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: cannot fetch ${repository.url}`);
      }
    },

    commitVersionChanges,

    /**
     * The version stage of one repository: rules applied on the build branch,
     * one commit, pushed, with the release's tag when one is asked for: branch
     * and tag in one atomic push, one round trip. Runs again safely at any
     * point: a commit the remote already holds is not made again; a remote that
     * moved is fetched, checked and retried, never forced. A tag the remote
     * already has elsewhere is left to the tag stage, which says what to do.
     */
    async versionRepository(input: VersionCommitInput): Promise<VersionCommitResult> {
      const { repository } = input;
      let tag = input.tag;
      let tagged: TagResult | undefined;
      try {
        for (let attempt = 1; ; attempt += 1) {
          // The checkout stage fetched this working copy. When the remote has moved since, the push is
          // rejected and the next attempt fetches: a round trip per repository saved in the usual case.
          const { git, start, remoteBuild, changes, warnings, localHead } = await commitVersionChanges(input, attempt > 1, tag);
          heartbeat({ step: 'push', attempt });
          const result = {
            headSha: localHead,
            // Run again after its push, the step makes no commit; the files are those of the version commit it finds.
            changedFiles: changes.length > 0 ? changes.map((change) => change.path) : await versionCommitFiles(git, start, input),
            committed: changes.length > 0,
            ...(warnings.length > 0 ? { warnings } : {}),
          };
          // A tag found on the remote in an earlier attempt counts only while the head is still where it points.
          if (tagged && tagged.sha !== localHead) tagged = undefined;
          const refspecs: string[] = [];
          if (localHead !== start || remoteBuild !== start) refspecs.push(`${localHead}:refs/heads/${repository.buildBranch}`);
          // The tag was made on localHead with the commit.
          if (tag) refspecs.push(`refs/tags/${tag}:refs/tags/${tag}`);
          if (refspecs.length === 0) return { ...result, ...(tagged ? { tagged } : {}) };
          try {
            const pushed = await git.raw(['push', '--porcelain', '--atomic', 'origin', ...refspecs]);
            // Porcelain marks a ref that was already up to date with '='.
            if (tag) tagged = { tag, sha: localHead, created: !pushed.split('\n').some((line) => line.startsWith(`=\trefs/tags/${tag}:`)) };
            return { ...result, ...(tagged ? { tagged } : {}) };
          } catch (error) {
            if (REMOTE_REJECTED.test(String(error)) || !REJECTED_PUSH.test(String(error)) || attempt >= MAX_PUSH_ATTEMPTS) throw error;
            if (tag) {
              // Refused, the tag may be why: one already there (an earlier try's at this commit, or another
              // release's) is not pushed again; the branch goes alone and the tag stage settles the rest.
              const existing = await remoteTagCommit(git, tag);
              if (existing) {
                if (existing === localHead) tagged = { tag, sha: localHead, created: false };
                tag = undefined;
              }
            }
            // Else the remote moved between our fetch and our push: start over from what it holds now.
          }
        }
      } catch (error) {
        throw describeGitFailure(error, `${repository.name}: version commit on '${repository.buildBranch}'`);
      }
    },

    /**
     * An annotated tag at `sha`, pushed (never forced). A tag already there at
     * that commit is fine; at another commit it is an error. The remote is asked
     * where its tag points only when it refuses the push.
     */
    async tagRepository(input: TagInput): Promise<TagResult> {
      const { repository, tag, sha } = input;
      try {
        const git = await workingCopyWith(input, sha);
        for (let attempt = 1; ; attempt += 1) {
          await git.raw([...identity(input.author), 'tag', '--force', '--annotate', '-m', input.message, '--', tag, sha]);
          try {
            const pushed = await git.raw(['push', '--porcelain', 'origin', `refs/tags/${tag}:refs/tags/${tag}`]);
            // Porcelain marks a ref that was already up to date with '='.
            return { tag, sha, created: !pushed.split('\n').some((line) => line.startsWith(`=\trefs/tags/${tag}:`)) };
          } catch (error) {
            if (REMOTE_REJECTED.test(String(error)) || !REJECTED_PUSH.test(String(error)) || attempt >= MAX_PUSH_ATTEMPTS) throw error;
          }
          const existing = await remoteTagCommit(git, tag);
          if (existing === sha) return { tag, sha, created: false };
          if (existing) {
            // A tag on an older commit of this build branch is an earlier try of this release: moving it is the fix.
            // Anywhere else it is another release's tag, and moving it would rewrite what was released.
            if (!(await revParse(git, existing))) await git.fetch();
            const ours = await isAncestor(git, existing, sha);
            throw ApplicationFailure.nonRetryable(
              `${repository.name}: tag '${tag}' already exists on ${repository.url} at ${existing.slice(0, 12)}, not at ${sha.slice(0, 12)}; ` +
                (ours
                  ? `it is on an older commit of ${repository.buildBranch}: to move it to the build branch run \`relflow retag ${input.releaseId} --repository ${repository.name}\``
                  : `it belongs to a release made before (its commit is not on ${repository.buildBranch}): ${releasedTagAdvice(repository, input.kind ?? 'ga')}, then start the release again`),
              'GitTagConflict',
            );
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
        if (!head)
          throw ApplicationFailure.nonRetryable(
            `${repository.name}: branch '${repository.buildBranch}' does not exist on ${repository.url}`,
            'GitBranchNotFound',
          );
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
