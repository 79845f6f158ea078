import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/dev/temporalServer';
import { productionTools } from './productionServer';
import { tempDir } from './temporal';

/** A message as Mailpit's REST API lists it. */
export interface MailpitSummary {
  ID: string;
  Subject: string;
  From: { Address: string };
  To: { Address: string }[];
}

/** A message as Mailpit's REST API returns it whole. */
export interface MailpitMessage extends MailpitSummary {
  Text: string;
  HTML: string;
}

export interface Mailpit {
  smtpPort: number;
  /** http://127.0.0.1:PORT, Mailpit's REST API (`/api/v1/...`). */
  api: string;
  messages(): Promise<MailpitSummary[]>;
  message(id: string): Promise<MailpitMessage>;
  stop(): void;
}

/**
 * Mailpit (built into the relflow cache by bootstrap --production) on free
 * ports: SMTP taking any credentials without TLS, as a relay inside a network
 * does, and its REST API for what it received.
 */
export async function startMailpit(): Promise<Mailpit> {
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    productionTools().mailpit,
    [
      '--smtp',
      `127.0.0.1:${smtpPort}`,
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--database',
      join(tempDir('mailpit'), 'mailpit.db'),
    ],
    { stdio: 'ignore' },
  );
  const api = `http://127.0.0.1:${httpPort}`;
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${api}${path}`);
    if (!response.ok) throw new Error(`Mailpit ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  };
  for (let attempt = 0; ; attempt += 1) {
    const up = await get('/api/v1/messages').then(
      () => true,
      () => false,
    );
    if (up) break;
    if (attempt > 150) throw new Error(`Mailpit did not answer on ${api}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    smtpPort,
    api,
    messages: async () => (await get<{ messages: MailpitSummary[] }>('/api/v1/messages')).messages,
    message: (id) => get<MailpitMessage>(`/api/v1/message/${encodeURIComponent(id)}`),
    stop: () => void child.kill('SIGKILL'),
  };
}
