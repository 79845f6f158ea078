import { ApplicationFailure } from '@temporalio/common';
import { parseHostPrefix } from '../config/secretsFile';
import { heartbeat } from './process';
import { destinationAllowed } from './secrets';

/** GitHub's REST API as a release reads and writes it: where, with which token, and the manifest field that names it. */
export interface GithubApi {
  apiUrl: string;
  token?: string;
  /** `ci.tokenEnv` or `github.tokenEnv`, named when GitHub refuses the token. */
  tokenField: string;
  /** The failure type of a refused token (`CiUnauthorized`, `GithubUnauthorized`): permanent, never retried. */
  unauthorized: string;
}

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

/** A list longer than this many pages (100 items each) is an API that never stops answering "next". */
const MAX_PAGES = 1000;

/**
 * One request (a path under the API, or a URL GitHub gave). A rate limit is
 * waited out (Retry-After, X-RateLimit-Reset) up to `deadline`; 401 and a 403
 * that is not a rate limit are permanent. Other statuses are the caller's.
 */
export async function githubRequest(
  api: GithubApi,
  method: string,
  pathOrUrl: string,
  deadline: number,
  body?: unknown,
): Promise<Response> {
  const base = api.apiUrl.replace(/\/+$/, '');
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${base}${pathOrUrl}`;
  const path = new URL(url).pathname;
  // A URL GitHub gave (a Link header's next page) is followed only under the API's own origin and path:
  // the token is for the API, never for a host a response names.
  // The same prefix match as a secret's hosts: same scheme, host and port, a path under base's on a segment boundary.
  const apiPrefix = parseHostPrefix(base);
  if (!apiPrefix || !destinationAllowed(apiPrefix, url))
    throw ApplicationFailure.nonRetryable(
      `GitHub API ${path}: the response points to ${new URL(url).origin}, outside ${base}; the token is not sent there`,
      'GithubForeignUrl',
    );
  for (;;) {
    const response = await fetch(url, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(api.token ? { authorization: `Bearer ${api.token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const wait = rateLimitWaitMs(response);
    if (wait !== undefined) {
      if (Date.now() + wait > deadline)
        throw new Error(`GitHub API ${path}: rate limited (HTTP ${response.status}) for longer than the stage allows`);
      await waitHeartbeating(wait, { rateLimited: path, waitMs: wait });
      continue;
    }
    if (response.status === 401 || response.status === 403)
      throw ApplicationFailure.nonRetryable(`GitHub API ${path}: HTTP ${response.status}; check ${api.tokenField}`, api.unauthorized);
    return response;
  }
}

/**
 * Every page of a GitHub list (per_page=100, following the Link header's
 * rel="next"): the items of `field` of each page, or each page itself when
 * the list is a JSON array.
 */
export async function githubPages<T>(
  api: GithubApi,
  path: string,
  field: string | undefined,
  deadline: number,
): Promise<{ first: Record<string, unknown>; items: T[] }> {
  let url: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=100`;
  let first: Record<string, unknown> | undefined;
  const items: T[] = [];
  for (let pages = 0; url; pages += 1) {
    if (pages === MAX_PAGES) throw ApplicationFailure.nonRetryable(`GitHub API ${path}: more than ${MAX_PAGES} pages`, 'GithubEndlessList');
    const response = await githubRequest(api, 'GET', url, deadline);
    if (!response.ok) throw new Error(`GitHub API ${new URL(response.url).pathname}: HTTP ${response.status}`);
    const page = (await response.json()) as Record<string, unknown> | T[];
    first ??= Array.isArray(page) ? {} : page;
    items.push(...(Array.isArray(page) ? page : ((field ? (page[field] as T[] | undefined) : undefined) ?? [])));
    url = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return { first: first as Record<string, unknown>, items };
}
