import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { GitError } from 'simple-git';
import type { RepositoryPlan } from '../release/plan';
import { GitOptions, GitWorkspace } from './gitWorkspace';

export interface CheckoutInput {
  releaseId: string;
  repository: RepositoryPlan;
  tokenEnv?: string;
}

export interface CheckoutResult {
  baseSha: string;
  /** Whether the mirror already existed (a warm workspace). */
  warm: boolean;
}

const MISSING_REMOTE = /(does not appear to be a git repository|repository .* not found|Repository not found|Could not read from remote repository|not found)/i;

/** A remote that does not exist or refuses us will not start working on a retry. */
export function describeGitFailure(error: unknown, what: string): Error {
  const message = error instanceof Error ? error.message.trim().split('\n').filter(Boolean).slice(-1)[0] ?? error.message : String(error);
  if (error instanceof GitError && MISSING_REMOTE.test(error.message)) {
    return ApplicationFailure.nonRetryable(`${what}: ${message}`, 'GitRemoteNotFound');
  }
  return new Error(`${what}: ${message}`);
}

function heartbeatOptions(tokenEnv?: string): GitOptions {
  let last = 0;
  return {
    tokenEnv,
    onProgress: ({ method, stage, progress }) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      try {
        Context.current().heartbeat({ method, stage, progress });
      } catch {
        // Not inside an activity (a direct call from a test or the CLI).
      }
    },
  };
}

export function createGitActivities(workspace: GitWorkspace) {
  return {
    /** Clones or fetches the repository into the release's working copy; returns the base SHA. */
    async checkoutRepository({ releaseId, repository, tokenEnv }: CheckoutInput): Promise<CheckoutResult> {
      const options = heartbeatOptions(tokenEnv);
      const warm = workspaceHasMirror(workspace, repository);
      try {
        const git = await workspace.workingCopy(releaseId, repository.name, repository.url, options);
        const remoteRef = `refs/remotes/origin/${repository.baseBranch}`;
        const baseSha = (await git.raw(['rev-parse', '--verify', '--quiet', `${remoteRef}^{commit}`]).catch(() => '')).trim();
        if (!baseSha) {
          throw ApplicationFailure.nonRetryable(
            `${repository.name}: branch '${repository.baseBranch}' does not exist on ${repository.url}`,
            'GitBranchNotFound',
          );
        }
        return { baseSha, warm };
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
        throw describeGitFailure(error, `${repository.name}: cannot fetch ${repository.url}`);
      }
    },
  };
}

function workspaceHasMirror(workspace: GitWorkspace, repository: RepositoryPlan): boolean {
  return existsSync(join(workspace.mirrorDir(repository.name, repository.url), 'HEAD'));
}
