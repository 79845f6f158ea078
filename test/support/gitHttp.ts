import { spawn } from 'node:child_process';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  authorization?: string;
}

export interface GitHttpServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request, in order, with the Authorization header it carried. */
  seen: SeenRequest[];
  /** Pushes (git-receive-pack POSTs) being served right now. */
  pushesInFlight(): number;
  /** Holds every later request this long (what `delayMs` set at the start). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Smart-HTTP git in front of the bare repositories under `root`, as a git host
 * serves them: `git http-backend` as CGI, behind a check of the Authorization
 * header when `token` is given (Basic with any user and the token as password,
 * as GitHub takes it). `redirect` answers paths under a prefix with a 301 to
 * another server, as a host does for a moved repository. `delayMs` holds each
 * request that long, as a remote host's round trips do.
 */
export async function startGitHttpServer(
  root: string,
  options: { token?: string; redirect?: { prefix: string; to: string }; delayMs?: number } = {},
): Promise<GitHttpServer> {
  const seen: SeenRequest[] = [];
  let pushes = 0;
  let delayMs = options.delayMs ?? 0;
  const server: Server = createServer((request, response) => {
    if (request.method === 'POST' && (request.url ?? '').endsWith('/git-receive-pack')) {
      pushes += 1;
      response.once('close', () => (pushes -= 1));
    }
    if (delayMs) setTimeout(() => serve(request, response), delayMs);
    else serve(request, response);
  });
  const serve = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    seen.push({ method: request.method ?? 'GET', path: url.pathname, authorization: request.headers.authorization });
    if (options.redirect && url.pathname.startsWith(options.redirect.prefix)) {
      response
        .writeHead(301, { Location: `${options.redirect.to}${url.pathname.slice(options.redirect.prefix.length)}${url.search}` })
        .end();
      return;
    }
    if (options.token && !authorized(request, options.token)) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('authentication required\n');
      return;
    }
    const backend = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'release-bot',
        REQUEST_METHOD: request.method,
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: request.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(request.headers['git-protocol'] ?? ''),
      },
    });
    request.pipe(backend.stdin);
    // Streamed as a git host does: the CGI's headers first, then its output as it comes (a pack is sent while it is made).
    let head = Buffer.alloc(0);
    let streaming = false;
    const respond = (end: number) => {
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('utf8').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else if (name) headers[name] = value;
      }
      response.writeHead(status, headers);
      response.write(head.subarray(end + 4));
      streaming = true;
    };
    backend.stdout.on('data', (chunk: Buffer) => {
      if (streaming) {
        response.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) respond(end);
    });
    backend.on('close', () => {
      if (!streaming) respond(head.indexOf('\r\n\r\n'));
      response.end();
    });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    pushesInFlight: () => pushes,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1) === token;
}
