import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './temporalServer';

/** A message as Mailpit's REST API lists it. */
export interface MailpitSummary {
  ID: string;
  Subject: string;
  /** When Mailpit received it (the listing has it; the whole message has Date instead). */
  Created: string;
  From: { Address: string };
  To: { Address: string }[];
}

/** A message as Mailpit's REST API returns it whole. */
export interface MailpitMessage extends Omit<MailpitSummary, 'Created'> {
  Text: string;
  HTML: string;
}

export interface Mailpit {
  smtpPort: number;
  /** http://127.0.0.1:PORT, Mailpit's REST API (`/api/v1/...`). */
  api: string;
  messages(): Promise<MailpitSummary[]>;
  message(id: string): Promise<MailpitMessage>;
  /** The message as received: its MIME source (`/api/v1/message/{ID}/raw`). */
  raw(id: string): Promise<Buffer>;
  stop(): void;
}

/**
 * Mailpit (built into the relflow cache by the bootstrap) on free ports, its
 * database in dataDir: SMTP taking any credentials without TLS, as a relay
 * inside a network does (or, given a certificate, only after STARTTLS), and
 * its REST API for what it received. (Its web UI's assets are not in the Go
 * module: the API is what there is.)
 */
export async function startMailpit(binary: string, dataDir: string, tls?: { certificate: string; key: string }): Promise<Mailpit> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  mkdirSync(dataDir, { recursive: true });
  // With a certificate, as a mail provider's submission port is: STARTTLS required before anything, login included.
  const security = tls
    ? ['--smtp-tls-cert', tls.certificate, '--smtp-tls-key', tls.key, '--smtp-require-starttls']
    : ['--smtp-auth-allow-insecure'];
  const child: ChildProcess = spawn(
    binary,
    [
      '--smtp',
      `127.0.0.1:${smtpPort}`,
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--smtp-auth-accept-any',
      ...security,
      '--database',
      join(dataDir, 'mailpit.db'),
    ],
    { stdio: 'ignore' },
  );
  const api = `http://127.0.0.1:${httpPort}`;
  const fetchOk = async (path: string): Promise<Response> => {
    const response = await fetch(`${api}${path}`);
    if (!response.ok) throw new Error(`Mailpit ${path}: HTTP ${response.status}`);
    return response;
  };
  const get = async <T>(path: string): Promise<T> => (await (await fetchOk(path)).json()) as T;
  for (let attempt = 0; ; attempt += 1) {
    const up = await get('/api/v1/messages').then(
      () => true,
      () => false,
    );
    if (up) break;
    if (attempt > 150 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`Mailpit (${binary}) did not answer on ${api}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const path = (id: string) => `/api/v1/message/${encodeURIComponent(id)}`;
  return {
    smtpPort,
    api,
    messages: async () => (await get<{ messages: MailpitSummary[] }>('/api/v1/messages?limit=1000')).messages,
    message: (id) => get<MailpitMessage>(path(id)),
    raw: async (id) => Buffer.from(await (await fetchOk(`${path(id)}/raw`)).arrayBuffer()),
    stop: () => void child.kill('SIGKILL'),
  };
}
