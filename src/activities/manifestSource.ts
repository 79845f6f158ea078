import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseManifest, readManifestText } from '../config/loadManifest';
import type { ManifestRef, ManifestSource } from '../release/model';
import type { Manifest } from '../config/manifest';
import { gitEnvironment, runGit } from './gitWorkspace';
import { insideRoot } from './paths';

/** A branch or tag name as git check-ref-format takes it, narrowed: no leading '-', no spaces, no control characters. */
const GIT_REF = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/;

/** Where the workers take manifests from: a directory on the worker, or a configuration repository at a ref. */
export interface TrustedManifests {
  dir?: string;
  repo?: string;
  defaultRef: string;
}

/** RELFLOW_MANIFEST_DIR, or RELFLOW_MANIFEST_REPO (at RELFLOW_MANIFEST_REF, default main); undefined when neither is set. */
export function trustedManifests(env: NodeJS.ProcessEnv): TrustedManifests | undefined {
  if (env.RELFLOW_MANIFEST_DIR) return { dir: env.RELFLOW_MANIFEST_DIR, defaultRef: '' };
  if (env.RELFLOW_MANIFEST_REPO) return { repo: env.RELFLOW_MANIFEST_REPO, defaultRef: env.RELFLOW_MANIFEST_REF || 'main' };
  return undefined;
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
    if (!GIT_REF.test(at) || at.includes('..') || at.endsWith('.lock') || at.endsWith('/')) {
      throw refused(
        `manifest ${ref.name}: ${ref.ref ? '--manifest-ref' : 'RELFLOW_MANIFEST_REF'} '${at.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}' is not a branch or tag name (letters, digits, . _ / -, not starting with -)`,
      );
    }
    insideRoot('/', ref.name, 'manifest');
    const scratch = await mkdtemp(join(tmpdir(), 'relflow-manifest-'));
    try {
      const gitEnv = gitEnvironment(env, env.RELFLOW_MANIFEST_TOKEN_SECRET || undefined, repo);
      await runGit(scratch, ['init', '--quiet', '--bare'], gitEnv);
      try {
        await runGit(scratch, ['fetch', '--quiet', '--depth', '1', '--', repo, at], gitEnv);
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').slice(-1)[0];
        throw ApplicationFailure.retryable(
          `manifest ${ref.name}: cannot fetch ${at} of the configuration repository: ${reason}`,
          'ManifestFetchFailed',
        );
      }
      commit = (await runGit(scratch, ['rev-parse', 'FETCH_HEAD^{commit}'], gitEnv)).trim();
      try {
        text = await runGit(scratch, ['show', `${commit}:${ref.name}`], gitEnv);
      } catch {
        throw refused(`manifest ${ref.name}: no such file at ${at} (${commit.slice(0, 12)}) of the configuration repository`);
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
