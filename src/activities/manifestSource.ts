import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MAX_MANIFEST_BYTES, manifestText, parseManifest, readManifestText } from '../config/loadManifest';
import { UserError } from '../config/errors';
import type { ManifestRef, ManifestSource } from '../release/model';
import type { Manifest } from '../config/manifest';
import { gitEnvironment, runGit, runGitBytes } from './gitWorkspace';
import { insideRoot } from './paths';

/** A branch or tag name as git check-ref-format takes it, narrowed: no leading '-', no spaces, no control characters. */
const GIT_REF = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/;

/** Where the workers take manifests from: a directory on the worker, or a configuration repository at a ref. */
export interface TrustedManifests {
  dir?: string;
  repo?: string;
  defaultRef: string;
  /** The reviewed refs a release may name (RELFLOW_MANIFEST_REFS; default the one configured ref). */
  allowedRefs: string[];
  /** An allowed-signers file: every manifest commit must carry a good SSH signature of one of them. */
  signers?: string;
}

/** A commit named by its full SHA-1 (or SHA-256) object name. */
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * RELFLOW_MANIFEST_DIR, or RELFLOW_MANIFEST_REPO (at RELFLOW_MANIFEST_REF, default main, and the
 * refs RELFLOW_MANIFEST_REFS allows); undefined when neither is set.
 */
export function trustedManifests(env: NodeJS.ProcessEnv): TrustedManifests | undefined {
  if (env.RELFLOW_MANIFEST_DIR) return { dir: env.RELFLOW_MANIFEST_DIR, defaultRef: '', allowedRefs: [] };
  if (!env.RELFLOW_MANIFEST_REPO) return undefined;
  const defaultRef = env.RELFLOW_MANIFEST_REF || 'main';
  const listed = (env.RELFLOW_MANIFEST_REFS ?? '')
    .split(',')
    .map((ref) => ref.trim())
    .filter(Boolean);
  return {
    repo: env.RELFLOW_MANIFEST_REPO,
    defaultRef,
    allowedRefs: listed.length > 0 ? listed : [defaultRef],
    ...(env.RELFLOW_MANIFEST_SIGNERS ? { signers: env.RELFLOW_MANIFEST_SIGNERS } : {}),
  };
}

/** The full ref an allowed name is fetched as: a branch, unless it names a tag as refs/tags/<tag>. */
function fullRef(name: string): string {
  return name.startsWith('refs/tags/') || name.startsWith('refs/heads/') ? name : `refs/heads/${name}`;
}

/**
 * Whether the workers run a manifest sent inside the request (relflow start -c FILE):
 * RELFLOW_INLINE_MANIFESTS=1 or 0 says so; unset, only when no trusted source is configured (the dev setup).
 */
export function inlineManifestsAccepted(env: NodeJS.ProcessEnv): boolean {
  if (env.RELFLOW_INLINE_MANIFESTS === '1') return true;
  if (env.RELFLOW_INLINE_MANIFESTS === '0') return false;
  return !trustedManifests(env);
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidReleaseInput');
}

/**
 * The manifest a reference names, read from the trusted source of this
 * environment and validated: its text's sha256, and the commit it came from.
 */
export async function loadManifestByReference(
  env: NodeJS.ProcessEnv,
  ref: ManifestRef,
): Promise<{ manifest: Manifest; source: ManifestSource }> {
  const trusted = trustedManifests(env);
  if (!trusted) {
    throw refused(
      `manifest ${ref.name}: no trusted manifest source is configured here; set RELFLOW_MANIFEST_DIR (a directory) or RELFLOW_MANIFEST_REPO (a configuration repository)`,
    );
  }
  let text: string;
  let commit: string | undefined;
  let where: string;
  if (trusted.dir) {
    if (ref.ref)
      throw refused(
        `manifest ${ref.name}: a ref (${ref.ref}) needs RELFLOW_MANIFEST_REPO; the manifests here are the directory ${trusted.dir}`,
      );
    const file = insideRoot(trusted.dir, ref.name, 'manifest');
    try {
      text = readManifestText(file);
    } catch (error) {
      throw refused(`manifest ${ref.name}: ${(error as Error).message}`);
    }
    where = file;
  } else {
    const repo = trusted.repo as string;
    const at = ref.ref || trusted.defaultRef;
    // A ref reaches git's command line: one that starts with '-' would be an option, a newline another line of its output.
    for (const [name, what] of [
      [at, ref.ref ? '--manifest-ref' : 'RELFLOW_MANIFEST_REF'],
      ...trusted.allowedRefs.map((allowed) => [allowed, 'RELFLOW_MANIFEST_REFS']),
    ]) {
      if (!GIT_REF.test(name) || name.includes('..') || name.endsWith('.lock') || name.endsWith('/')) {
        throw refused(
          `manifest ${ref.name}: ${what} '${name.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}' is not a branch or tag name (letters, digits, . _ / -, not starting with -)`,
        );
      }
    }
    // The starter chooses among the reviewed refs, or a commit on one of them: never a pull request's head or a fork's commit.
    const pinned = COMMIT_ID.test(at);
    if (!pinned && !trusted.allowedRefs.some((allowed) => fullRef(allowed) === fullRef(at))) {
      throw refused(
        `manifest ${ref.name}: ref '${at}' is not one the workers take manifests from; allowed: ${trusted.allowedRefs.join(', ')} (RELFLOW_MANIFEST_REFS), or a commit on one of them`,
      );
    }
    insideRoot('/', ref.name, 'manifest');
    const scratch = await mkdtemp(join(tmpdir(), 'relflow-manifest-'));
    try {
      const gitEnv = gitEnvironment(env, env.RELFLOW_MANIFEST_TOKEN_SECRET || undefined, repo);
      await runGit(scratch, ['init', '--quiet', '--bare'], gitEnv);
      const wanted = pinned ? trusted.allowedRefs : [at];
      const refspecs = wanted.map((name, index) => `+${fullRef(name)}:refs/allowed/${index}`);
      try {
        // A pinned commit needs the history of the allowed refs to show it is on one; a ref needs its head only.
        await runGit(scratch, ['fetch', '--quiet', ...(pinned ? [] : ['--depth', '1']), '--', repo, ...refspecs], gitEnv);
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').slice(-1)[0];
        throw ApplicationFailure.retryable(
          `manifest ${ref.name}: cannot fetch ${wanted.map(fullRef).join(', ')} of the configuration repository: ${reason}`,
          'ManifestFetchFailed',
        );
      }
      if (pinned) {
        const onAllowed = await Promise.all(
          wanted.map((_, index) =>
            runGit(scratch, ['merge-base', '--is-ancestor', at, `refs/allowed/${index}`], gitEnv).then(
              () => true,
              () => false,
            ),
          ),
        );
        if (!onAllowed.includes(true)) {
          throw refused(
            `manifest ${ref.name}: commit ${at.slice(0, 12)} is on none of the refs the workers take manifests from (${trusted.allowedRefs.join(', ')})`,
          );
        }
        commit = at;
      } else {
        commit = (await runGit(scratch, ['rev-parse', 'refs/allowed/0^{commit}'], gitEnv)).trim();
      }
      if (trusted.signers) {
        await runGit(
          scratch,
          ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${trusted.signers}`, 'verify-commit', commit],
          gitEnv,
        ).catch(() => {
          throw refused(
            `manifest ${ref.name}: commit ${commit?.slice(0, 12)} carries no good signature of a signer in ${trusted.signers} (RELFLOW_MANIFEST_SIGNERS)`,
          );
        });
      }
      const here = `${at} (${commit.slice(0, 12)}) of the configuration repository`;
      // ls-tree tells a link or a directory from a file, and its size, before a byte of it is read.
      const entry = (await runGit(scratch, ['ls-tree', '-l', '--full-tree', commit, '--', ref.name], gitEnv)).split('\n')[0] ?? '';
      const listed = /^(\d+) (\w+) [0-9a-f]+ +(\S+)\t/.exec(entry);
      if (!listed) throw refused(`manifest ${ref.name}: no such file at ${here}`);
      const [, mode, type, size] = listed;
      if (mode === '120000') throw refused(`manifest ${ref.name}: a symbolic link at ${here}; a manifest is a file of the repository`);
      if (type !== 'blob') throw refused(`manifest ${ref.name}: not a file at ${here} (a ${type}); expected a YAML manifest`);
      if (Number(size) > MAX_MANIFEST_BYTES) {
        throw refused(`manifest ${ref.name}: ${size} bytes at ${here}; a manifest is at most ${MAX_MANIFEST_BYTES} bytes`);
      }
      try {
        text = manifestText(await runGitBytes(scratch, ['cat-file', 'blob', `${commit}:${ref.name}`], gitEnv), `manifest ${ref.name}`);
      } catch (error) {
        throw refused(error instanceof UserError ? error.message : `manifest ${ref.name}: cannot read it at ${here}`);
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    where = `${ref.name}@${commit.slice(0, 12)}`;
  }
  const sha256 = createHash('sha256').update(text).digest('hex');
  if (ref.sha256 && ref.sha256 !== sha256) {
    throw refused(
      `manifest ${ref.name}: it changed since the release was started (sha256 ${sha256.slice(0, 16)}…, the starter read ${ref.sha256.slice(0, 16)}…); start it again`,
    );
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(text, where);
  } catch (error) {
    throw refused(error instanceof Error ? error.message : String(error));
  }
  return { manifest, source: { name: ref.name, ...(ref.ref ? { ref: ref.ref } : {}), ...(commit ? { commit } : {}), sha256 } };
}

export function createManifestActivities(env: NodeJS.ProcessEnv) {
  return {
    /** The release's manifest, from where the workers trust manifests to come from. */
    async loadReleaseManifest(ref: ManifestRef): Promise<{ manifest: Manifest; source: ManifestSource }> {
      return loadManifestByReference(env, ref);
    },
  };
}
