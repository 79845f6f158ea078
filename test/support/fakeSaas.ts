import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ParsedMail, simpleParser } from 'mailparser';

/** A local HTTP server for a SaaS API that cannot run here; requests are recorded. */
export interface LocalApi {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export async function startLocalApi(handle: (method: string, path: string, body: string) => { status: number; json?: unknown }): Promise<LocalApi> {
  const requests: LocalApi['requests'] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });
      const answer = handle(request.method ?? 'GET', path, body);
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export type CiState = 'success' | 'failure' | 'pending';

/** The GitHub REST subset relflow reads: combined status and check runs of a ref. */
export function startGithubApi(states: Record<string, CiState>): Promise<LocalApi> {
  return startLocalApi((_method, path) => {
    const match = /^\/repos\/[^/]+\/([^/]+)\/commits\/[^/]+\/(status|check-runs)$/.exec(path);
    if (!match) return { status: 404, json: { message: 'Not Found' } };
    const state = states[match[1]] ?? 'pending';
    if (match[2] === 'status') {
      return { status: 200, json: { state, total_count: 1, statuses: [{ context: 'travis-ci', state }] } };
    }
    const run = state === 'pending' ? { name: 'unit', status: 'in_progress', conclusion: null } : { name: 'unit', status: 'completed', conclusion: state === 'success' ? 'success' : 'failure' };
    return { status: 200, json: { total_count: 1, check_runs: [run] } };
  });
}

/** The ReadTheDocs API v3 subset: trigger a version build, read a build. */
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

/** A real SMTP exchange: smtp-server receives, mailparser parses. */
export interface Inbox {
  port: number;
  mails: ParsedMail[];
  close(): Promise<void>;
}

export async function startInbox(): Promise<Inbox> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
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
