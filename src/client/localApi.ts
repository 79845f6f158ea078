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

export async function startLocalApi(handle: (method: string, path: string, body: string) => { status: number; json?: unknown; headers?: Record<string, string> }): Promise<LocalApi> {
  const requests: LocalApi['requests'] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });
      const answer = handle(request.method ?? 'GET', path, body);
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

/** The ReadTheDocs API v3 subset relflow uses: trigger a version build, read a build. Builds finish at once with the given result. */
export function startReadTheDocsApi(results: Record<string, boolean>): Promise<LocalApi> {
  let next = 100;
  const builds = new Map<number, string>();
  return startLocalApi((method, path) => {
    const trigger = /^\/api\/v3\/projects\/([^/]+)\/versions\/([^/]+)\/builds\/$/.exec(path);
    if (method === 'POST' && trigger) {
      if (!(trigger[1] in results)) return { status: 404, json: { detail: 'Not found.' } };
      next += 1;
      builds.set(next, trigger[1]);
      return { status: 202, json: { build: { id: next, state: { code: 'triggered' } } } };
    }
    const read = /^\/api\/v3\/projects\/([^/]+)\/builds\/(\d+)\/$/.exec(path);
    if (method === 'GET' && read && builds.has(Number(read[2]))) {
      const project = builds.get(Number(read[2])) as string;
      return { status: 200, json: { id: Number(read[2]), state: { code: 'finished' }, success: results[project], error: results[project] ? '' : 'Sphinx error' } };
    }
    return { status: 404, json: { detail: 'Not found.' } };
  });
}
