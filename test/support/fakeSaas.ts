import { LocalApi, startLocalApi } from '../../src/dev/localApi';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ParsedMail, simpleParser } from 'mailparser';

export { startLocalApi, startReadTheDocsApi } from '../../src/dev/localApi';
export type { LocalApi } from '../../src/dev/localApi';

export type CiState = 'success' | 'failure' | 'pending';

export interface GithubApiOptions {
  /** Passing statuses and check runs listed before each repository's own one, so a failure can sit on a later page. */
  padding?: number;
  /** The first `requests` requests are refused as GitHub refuses over its rate limit. */
  rateLimited?: { requests: number; style: '403' | '429' };
  /** Repositories GitHub does not have (every other one exists). */
  missing?: string[];
  /** The token GitHub accepts; any token when absent. */
  token?: string;
  /** The first N lists of releases answer empty, as a list that lags behind a create another run made. */
  releaseListLag?: number;
}

/**
 * The GitHub REST subset relflow reads: a repository, the combined status and check runs of a
 * ref, paginated as GitHub does (per_page, default 30, at most 100; a Link
 * header with rel="next"), and rate limits as 403 with X-RateLimit-Remaining: 0
 * and X-RateLimit-Reset, or 429 with Retry-After.
 */
/** A release as GitHub's REST API returns it (the fields relflow reads and writes). */
export interface GithubRelease {
  id: number;
  repository: string;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  html_url: string;
}

/**
 * GitHub's releases API as it behaves: a draft has no tag yet, so
 * `GET .../releases/tags/{tag}` finds published releases only and only the
 * list shows drafts; several drafts may name one tag; creating or publishing a
 * second published release of a tag is refused with 422 `already_exists`.
 */
function releasesApi(
  releases: GithubRelease[],
  lag: { lists: number },
  method: string,
  path: string,
  body: string,
): { status: number; json: unknown } | undefined {
  const list = /^\/repos\/([^/]+)\/([^/]+)\/releases$/.exec(path);
  const byTag = /^\/repos\/[^/]+\/([^/]+)\/releases\/tags\/([^/]+)$/.exec(path);
  const byId = /^\/repos\/[^/]+\/([^/]+)\/releases\/(\d+)$/.exec(path);
  const alreadyExists = {
    status: 422,
    json: { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] },
  };
  const published = (repository: string, tag: string, except?: number) =>
    releases.some((release) => release.repository === repository && release.tag_name === tag && !release.draft && release.id !== except);
  if (list && method === 'GET') {
    if (lag.lists > 0) {
      lag.lists -= 1;
      return { status: 200, json: [] };
    }
    return { status: 200, json: releases.filter((release) => release.repository === list[2]).reverse() };
  }
  if (list && method === 'POST') {
    const request = JSON.parse(body) as Partial<GithubRelease>;
    if (!request.tag_name)
      return { status: 422, json: { message: 'Validation Failed', errors: [{ field: 'tag_name', code: 'missing_field' }] } };
    if (!request.draft && published(list[2], request.tag_name)) return alreadyExists;
    const id = 1000 + releases.length;
    const release: GithubRelease = {
      id,
      repository: list[2],
      tag_name: request.tag_name,
      name: request.name ?? request.tag_name,
      body: request.body ?? '',
      draft: Boolean(request.draft),
      html_url: `https://github.local/${list[1]}/${list[2]}/releases/${request.draft ? `untagged-${id}` : `tag/${request.tag_name}`}`,
    };
    releases.push(release);
    return { status: 201, json: release };
  }
  if (byTag && method === 'GET') {
    const release = releases.find(
      (candidate) => candidate.repository === byTag[1] && candidate.tag_name === decodeURIComponent(byTag[2]) && !candidate.draft,
    );
    return release ? { status: 200, json: release } : { status: 404, json: { message: 'Not Found' } };
  }
  if (byId && method === 'PATCH') {
    const release = releases.find((candidate) => candidate.repository === byId[1] && candidate.id === Number(byId[2]));
    if (!release) return { status: 404, json: { message: 'Not Found' } };
    const request = JSON.parse(body) as Partial<GithubRelease>;
    if (request.draft === false && published(release.repository, request.tag_name ?? release.tag_name, release.id)) return alreadyExists;
    Object.assign(release, request);
    if (!release.draft) release.html_url = release.html_url.replace(/untagged-\d+$/, `tag/${release.tag_name}`);
    return { status: 200, json: release };
  }
  return undefined;
}

export async function startGithubApi(
  states: Record<string, CiState>,
  options: GithubApiOptions = {},
): Promise<LocalApi & { releases: GithubRelease[] }> {
  let limited = options.rateLimited?.requests ?? 0;
  let base = '';
  const releases: GithubRelease[] = [];
  const lag = { lists: options.releaseListLag ?? 0 };
  const api = await startLocalApi(
    (method, pathAndQuery, body, requestHeaders): { status: number; json: unknown; headers?: Record<string, string> } => {
      if (options.token && requestHeaders.authorization !== `Bearer ${options.token}`)
        return { status: 401, json: { message: 'Bad credentials' } };
      if (limited > 0 && options.rateLimited) {
        limited -= 1;
        return options.rateLimited.style === '429'
          ? { status: 429, json: { message: 'Too Many Requests' }, headers: { 'retry-after': '1' } }
          : {
              status: 403,
              json: { message: 'API rate limit exceeded' },
              headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) },
            };
      }
      const url = new URL(pathAndQuery, 'http://github.local');
      const release = releasesApi(releases, lag, method, url.pathname, body);
      if (release) return release;
      const repository = /^\/repos\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (repository) {
        return options.missing?.includes(repository[2])
          ? { status: 404, json: { message: 'Not Found' } }
          : { status: 200, json: { full_name: `${repository[1]}/${repository[2]}` } };
      }
      const match = /^\/repos\/[^/]+\/([^/]+)\/commits\/[^/]+\/(status|check-runs)$/.exec(url.pathname);
      if (!match) return { status: 404, json: { message: 'Not Found' } };
      const state = states[match[1]] ?? 'pending';
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
      const page = Number(url.searchParams.get('page') ?? 1);
      const padding = options.padding ?? 0;
      const total = padding + 1;
      const pageOf = <T>(all: (index: number) => T): T[] => {
        const items: T[] = [];
        for (let index = (page - 1) * perPage; index < Math.min(page * perPage, total); index += 1) items.push(all(index));
        return items;
      };
      const headers: Record<string, string> =
        page * perPage < total ? { link: `<${base}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"` } : {};
      if (match[2] === 'status') {
        const statuses = pageOf((index) =>
          index < padding ? { context: `lint-${index}`, state: 'success' } : { context: 'travis-ci', state },
        );
        return { status: 200, json: { state, total_count: total, statuses }, headers };
      }
      const ownRun =
        state === 'pending'
          ? { name: 'unit', status: 'in_progress', conclusion: null }
          : { name: 'unit', status: 'completed', conclusion: state === 'success' ? 'success' : 'failure' };
      const checkRuns = pageOf((index) =>
        index < padding ? { name: `check-${index}`, status: 'completed', conclusion: 'success' } : ownRun,
      );
      return { status: 200, json: { total_count: total, check_runs: checkRuns }, headers };
    },
  );
  base = api.url;
  return Object.assign(api, { releases });
}

/** A real SMTP exchange: smtp-server receives, mailparser parses. */
export interface Inbox {
  port: number;
  mails: ParsedMail[];
  close(): Promise<void>;
}

/** `delayMs` holds each message's MAIL FROM that long, as a slow mail server does, before any message is complete. */
export async function startInbox(options: { delayMs?: number } = {}): Promise<Inbox> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onMailFrom(_address, _session, callback) {
      setTimeout(() => callback(), options.delayMs ?? 0);
    },
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
