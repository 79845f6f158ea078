import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking the documented API subset of a SaaS that cannot
 * run here (ReadTheDocs, GitHub's status API): for the demo and the tests.
 * Requests are recorded.
 */
export interface LocalApi {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export async function startLocalApi(
  handle: (
    method: string,
    path: string,
    body: string,
    headers: IncomingMessage['headers'],
  ) => { status: number; json?: unknown; headers?: Record<string, string> },
): Promise<LocalApi> {
  const requests: LocalApi['requests'] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });
      const answer = handle(request.method ?? 'GET', path, body, request.headers);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of fetch would hold the close for seconds.
        server.closeAllConnections();
      }),
  };
}

/**
 * The ReadTheDocs API v3 subset relflow uses: read a project, sync its
 * versions, trigger a version build, read a build. A project's result is a
 * finished build (true or false) or 'cancelled'. With `unsynced`, a version is
 * unknown (404) until the project's versions are synced, as after a new tag;
 * with `versions`, only those versions ever exist; with `buildMs`, a build
 * reads as building for that long after it was triggered.
 */
export function startReadTheDocsApi(
  results: Record<string, boolean | 'cancelled'>,
  options: { unsynced?: boolean; versions?: string[]; buildMs?: number } = {},
): Promise<LocalApi> {
  let next = 100;
  const builds = new Map<number, string>();
  const triggeredAt = new Map<number, number>();
  const synced = new Set<string>();
  return startLocalApi((method, path) => {
    const project = /^\/api\/v3\/projects\/([^/]+)\/$/.exec(path);
    if (method === 'GET' && project)
      return project[1] in results ? { status: 200, json: { slug: project[1] } } : { status: 404, json: { detail: 'Not found.' } };
    const sync = /^\/api\/v3\/projects\/([^/]+)\/sync-versions\/$/.exec(path);
    if (method === 'POST' && sync && sync[1] in results) {
      synced.add(sync[1]);
      return { status: 202, json: { triggered: true } };
    }
    const trigger = /^\/api\/v3\/projects\/([^/]+)\/versions\/([^/]+)\/builds\/$/.exec(path);
    if (method === 'POST' && trigger) {
      const unknown =
        (options.unsynced && !synced.has(trigger[1])) || (options.versions && !options.versions.includes(decodeURIComponent(trigger[2])));
      if (!(trigger[1] in results) || unknown) return { status: 404, json: { detail: 'Not found.' } };
      next += 1;
      builds.set(next, trigger[1]);
      triggeredAt.set(next, Date.now());
      return { status: 202, json: { build: { id: next, state: { code: 'triggered' } } } };
    }
    const read = /^\/api\/v3\/projects\/([^/]+)\/builds\/(\d+)\/$/.exec(path);
    if (method === 'GET' && read && builds.has(Number(read[2]))) {
      const result = results[builds.get(Number(read[2])) as string];
      if (options.buildMs && Date.now() - (triggeredAt.get(Number(read[2])) ?? 0) < options.buildMs)
        return { status: 200, json: { id: Number(read[2]), state: { code: 'building' }, success: null, error: '' } };
      if (result === 'cancelled')
        return { status: 200, json: { id: Number(read[2]), state: { code: 'cancelled' }, success: null, error: '' } };
      return {
        status: 200,
        json: { id: Number(read[2]), state: { code: 'finished' }, success: result, error: result ? '' : 'Sphinx error' },
      };
    }
    return { status: 404, json: { detail: 'Not found.' } };
  });
}
