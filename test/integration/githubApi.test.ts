import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { githubPages } from '../../src/activities/githubApi';

const TOKEN = 'ghp_token-for-the-api-only';

/** An HTTP server on loopback that records every request and answers with `respond`. */
async function listen(host: string, respond: (request: IncomingMessage) => { headers?: Record<string, string>; body: unknown }) {
  const requests: { url: string; authorization?: string }[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', authorization: request.headers.authorization });
    const { headers, body } = respond(request);
    response.writeHead(200, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

describe('GitHub API pages (two HTTP servers on loopback)', function () {
  const api = (apiUrl: string) => ({ apiUrl, token: TOKEN, tokenField: 'ci.tokenEnv', unauthorized: 'CiUnauthorized' });
  const deadline = () => Date.now() + 10_000;

  it("follows a Link header's next page under the API's origin and path, and refuses one that names another host, sending it nothing", async function () {
    const thief = await listen('127.0.0.2', () => ({ body: [] }));
    const github = await listen('127.0.0.1', (request) => {
      if (request.url?.includes('page=2'))
        return { headers: { link: `<${thief.url}/api/v3/repos/o/r/releases?page=3>; rel="next"` }, body: [{ id: 2 }] };
      return { headers: { link: `<${github.url}/api/v3/repos/o/r/releases?per_page=100&page=2>; rel="next"` }, body: [{ id: 1 }] };
    });
    try {
      await assert.rejects(githubPages(api(`${github.url}/api/v3`), '/repos/o/r/releases', undefined, deadline()), (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure, String(error));
        assert.equal(error.nonRetryable, true);
        assert.equal(
          error.message,
          `GitHub API /api/v3/repos/o/r/releases: the response points to ${thief.url}, outside ${github.url}/api/v3; the token is not sent there`,
        );
        return true;
      });
      assert.deepEqual(
        github.requests.map((request) => [request.url, request.authorization]),
        [
          ['/api/v3/repos/o/r/releases?per_page=100', `Bearer ${TOKEN}`],
          ['/api/v3/repos/o/r/releases?per_page=100&page=2', `Bearer ${TOKEN}`],
        ],
      );
      assert.deepEqual(thief.requests, [], 'the other host got no request');
    } finally {
      github.close();
      thief.close();
    }
  });

  it("a next page on the API's host but outside its path (another GitHub Enterprise mount) is refused too", async function () {
    const github = await listen('127.0.0.1', () => ({
      headers: { link: `<${github.url}/other/repos?page=2>; rel="next"` },
      body: [{ id: 1 }],
    }));
    try {
      await assert.rejects(
        githubPages(api(`${github.url}/api/v3`), '/repos/o/r/releases', undefined, deadline()),
        /outside .*\/api\/v3; the token is not sent there/,
      );
      assert.equal(github.requests.length, 1);
    } finally {
      github.close();
    }
  });
});
