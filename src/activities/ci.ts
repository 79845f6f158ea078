import { tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../config/manifest';
import { durationMs } from '../config/duration';
import { heartbeat, lastLines } from './process';
import { runSandboxedCommand, workerSandbox } from './builders/sandbox';
import { readSecret } from './secrets';
import { GithubApi, githubPages } from './githubApi';

export interface CiTarget {
  repository: string;
  tag: string;
  sha: string;
}

export interface CiResult {
  passed: boolean;
  repositories: { repository: string; result: 'passed' | 'failed' | 'pending'; detail: string }[];
  detail: string;
}

type GithubCi = Extract<Manifest['ci'], { provider: 'github' }>;

const FAILED_CONCLUSIONS = ['failure', 'cancelled', 'timed_out', 'action_required', 'startup_failure'];

/** The combined commit status and the check runs of a tag, as one verdict. */
async function githubVerdict(
  ci: GithubCi,
  api: GithubApi,
  target: CiTarget,
  deadline: number,
): Promise<{ result: 'passed' | 'failed' | 'pending'; detail: string }> {
  const ref = encodeURIComponent(target.tag);
  const base = `/repos/${encodeURIComponent(ci.owner)}/${encodeURIComponent(target.repository)}/commits/${ref}`;
  const combined = await githubPages<{ context: string; state: string }>(api, `${base}/status`, 'statuses', deadline);
  const runs = await githubPages<{ name: string; status: string; conclusion: string | null }>(
    api,
    `${base}/check-runs`,
    'check_runs',
    deadline,
  );
  const status = {
    state: String(combined.first.state),
    total_count: Number(combined.first.total_count ?? combined.items.length),
    statuses: combined.items,
  };
  const checks = { total_count: Number(runs.first.total_count ?? runs.items.length), check_runs: runs.items };
  const failedStatuses = status.statuses
    .filter((entry) => entry.state === 'failure' || entry.state === 'error')
    .map((entry) => entry.context);
  const failedChecks = checks.check_runs
    .filter((run) => run.status === 'completed' && FAILED_CONCLUSIONS.includes(run.conclusion ?? ''))
    .map((run) => run.name);
  if (failedStatuses.length + failedChecks.length > 0)
    return { result: 'failed', detail: `failed: ${[...failedStatuses, ...failedChecks].join(', ')}` };
  const checksDone = checks.check_runs.every((run) => run.status === 'completed');
  const statusDone = status.total_count === 0 || status.state === 'success';
  if (status.total_count + checks.total_count === 0) return { result: 'pending', detail: 'no CI result reported yet' };
  return checksDone && statusDone
    ? { result: 'passed', detail: `${status.total_count} statuses, ${checks.total_count} check runs passed` }
    : { result: 'pending', detail: 'running' };
}

export function createCiActivities(env: NodeJS.ProcessEnv) {
  const sandbox = workerSandbox(env);
  return {
    /**
     * Waits for the unit and integration results on the release tags. A failure
     * or a timeout is a result (the release goes on without system tests), not an error.
     */
    async waitForCi(input: { ci: Manifest['ci']; targets: CiTarget[]; pollMs?: number }): Promise<CiResult> {
      const { ci } = input;
      if (ci.provider === 'none') return { passed: true, repositories: [], detail: 'no CI provider' };
      if (ci.provider === 'command') {
        const dir = await mkdtemp(join(tmpdir(), 'relflow-ci-'));
        const result = await runSandboxedCommand(sandbox, ci.command, {
          dir,
          env,
          variables: { RELFLOW_CI_TARGETS: JSON.stringify(input.targets) },
          timeoutMs: durationMs(ci.timeout),
          what: 'ci.command',
        }).finally(() => rm(dir, { recursive: true, force: true }));
        const passed = result.code === 0;
        return {
          passed,
          repositories: input.targets.map((target) => ({
            repository: target.repository,
            result: passed ? 'passed' : 'failed',
            detail: '',
          })),
          detail: passed ? 'CI command passed' : `CI command failed (exit ${result.code}): ${lastLines(result.output)}`,
        };
      }
      const api = {
        apiUrl: ci.apiUrl,
        token: readSecret(env, 'ci.tokenEnv', ci.tokenEnv, ci.apiUrl),
        tokenField: 'ci.tokenEnv',
        unauthorized: 'CiUnauthorized',
      };
      const deadline = Date.now() + durationMs(ci.timeout);
      let wait = input.pollMs ?? durationMs(ci.pollEvery);
      for (;;) {
        const verdicts = await Promise.all(
          input.targets.map(async (target) => ({ repository: target.repository, ...(await githubVerdict(ci, api, target, deadline)) })),
        );
        heartbeat({ pending: verdicts.filter((verdict) => verdict.result === 'pending').map((verdict) => verdict.repository) });
        const failed = verdicts.filter((verdict) => verdict.result === 'failed');
        const pending = verdicts.filter((verdict) => verdict.result === 'pending');
        if (failed.length > 0 && pending.length === 0) {
          return {
            passed: false,
            repositories: verdicts,
            detail: `CI failed on ${failed.map((verdict) => `${verdict.repository} (${verdict.detail})`).join(', ')}`,
          };
        }
        if (pending.length === 0) return { passed: true, repositories: verdicts, detail: `CI passed on ${verdicts.length} repositories` };
        if (Date.now() + wait > deadline) {
          return {
            passed: false,
            repositories: verdicts,
            detail: `CI timed out after ${ci.timeout} waiting for ${pending.map((verdict) => verdict.repository).join(', ')}`,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 1.5, 5 * 60_000);
      }
    },
  };
}
