import { LocalApi, startLocalApi } from '../../src/client/localApi';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ParsedMail, simpleParser } from 'mailparser';

export { startLocalApi, startReadTheDocsApi } from '../../src/client/localApi';
export type { LocalApi } from '../../src/client/localApi';

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
