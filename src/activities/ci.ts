import { tmpdir } from 'node:os';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import { durationMs } from '../config/duration';
import { heartbeat, lastLines, runProcess } from './process';
import { readSecret } from './secrets';

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

/**
 * How long GitHub asks us to wait: Retry-After, or until X-RateLimit-Reset when no requests remain; undefined
 * when it is not a rate limit.
 */
export function rateLimitWaitMs(response: Pick<Response, 'status' | 'headers'>, now = Date.now()): number | undefined {
  if (response.status !== 403 && response.status !== 429) return undefined;
  const retryAfter = response.headers.get('retry-after');
  if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter) * 1000;
  if (response.headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) + 1000 : 60_000;
  }
  return response.status === 429 ? 60_000 : undefined;
}

/** Waits, heartbeating every few seconds, so a long rate-limit wait does not look like a dead worker. */
async function waitHeartbeating(ms: number, details: unknown): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    heartbeat(details);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, until - Date.now())));
  }
}

/**
 * Every page of a GitHub list (per_page=100, following the Link header's
 * rel="next"), with the items of `field` concatenated. A rate limit is waited
 * out (Retry-After, X-RateLimit-Reset) up to `deadline`; 401 and a 403 that is
 * not a rate limit are permanent.
 */
async function githubPages<T>(
  ci: GithubCi,
  token: string | undefined,
  path: string,
  field: string,
  deadline: number,
): Promise<{ first: Record<string, unknown>; items: T[] }> {
  let url: string | undefined = `${ci.apiUrl.replace(/\/+$/, '')}${path}?per_page=100`;
  let first: Record<string, unknown> | undefined;
  const items: T[] = [];
  while (url) {
    const response = await fetch(url, {
      headers: { accept: 'application/vnd.github+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const wait = rateLimitWaitMs(response);
    if (wait !== undefined) {
      if (Date.now() + wait > deadline)
        throw new Error(`GitHub API ${path}: rate limited (HTTP ${response.status}) for longer than the CI timeout allows`);
      await waitHeartbeating(wait, { rateLimited: path, waitMs: wait });
      continue;
    }
    if (response.status === 401 || response.status === 403)
      throw ApplicationFailure.nonRetryable(`GitHub API ${path}: HTTP ${response.status}; check ci.tokenEnv`, 'CiUnauthorized');
    if (!response.ok) throw new Error(`GitHub API ${path}: HTTP ${response.status}`);
    const page = (await response.json()) as Record<string, unknown>;
    first ??= page;
    items.push(...((page[field] as T[] | undefined) ?? []));
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return { first: first as Record<string, unknown>, items };
}

/** The combined commit status and the check runs of a tag, as one verdict. */
async function githubVerdict(
  ci: GithubCi,
  token: string | undefined,
  target: CiTarget,
  deadline: number,
): Promise<{ result: 'passed' | 'failed' | 'pending'; detail: string }> {
  const ref = encodeURIComponent(target.tag);
  const base = `/repos/${encodeURIComponent(ci.owner)}/${encodeURIComponent(target.repository)}/commits/${ref}`;
  const combined = await githubPages<{ context: string; state: string }>(ci, token, `${base}/status`, 'statuses', deadline);
  const runs = await githubPages<{ name: string; status: string; conclusion: string | null }>(
    ci,
    token,
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
  return {
    /**
     * Waits for the unit and integration results on the release tags. A failure
     * or a timeout is a result (the release goes on without system tests), not an error.
     */
    async waitForCi(input: { ci: Manifest['ci']; targets: CiTarget[]; pollMs?: number }): Promise<CiResult> {
      const { ci } = input;
      if (ci.provider === 'none') return { passed: true, repositories: [], detail: 'no CI provider' };
      if (ci.provider === 'command') {
        const result = await runProcess(['sh', '-c', ci.command], {
          cwd: tmpdir(),
          env: { PATH: env.PATH, HOME: env.HOME, RELFLOW_CI_TARGETS: JSON.stringify(input.targets) },
          timeoutMs: durationMs(ci.timeout),
        });
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
      const token = readSecret(env, 'ci.tokenEnv', ci.tokenEnv, ci.apiUrl);
      const deadline = Date.now() + durationMs(ci.timeout);
      let wait = input.pollMs ?? durationMs(ci.pollEvery);
      for (;;) {
        const verdicts = await Promise.all(
          input.targets.map(async (target) => ({ repository: target.repository, ...(await githubVerdict(ci, token, target, deadline)) })),
        );
        heartbeat({ pending: verdicts.filter((verdict) => verdict.result === 'pending').length });
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
