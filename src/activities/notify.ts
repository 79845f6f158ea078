import { ApplicationFailure, Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { localDirectory } from './paths';
import { heartbeat } from './process';
import { readSecret, workerSecrets } from './secrets';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Manifest } from '../config/manifest';
import type { ReleaseState } from '../release/model';
import { emailReport, Message, releaseReport } from '../release/report';

export type { Message } from '../release/report';

export interface DeliveryReport {
  email?: string;
  webhooks: { name: string; status: number | string }[];
}

/** The mail of a message, to the manifest's recipients. */
function mailOf(email: NonNullable<Manifest['notifications']['email']>, message: Message, messageId?: string) {
  return { from: email.from, to: email.to, subject: message.subject, text: message.text, html: message.html, messageId };
}

/**
 * What an earlier attempt of this activity delivered (its heartbeat details):
 * a retry after a failed webhook, or after a worker died, does not send the
 * email or call a webhook again. A worker that dies between the SMTP server's
 * acceptance and that heartbeat's arrival sends the message twice, with the
 * same Message-ID; nothing closer to exactly-once exists for SMTP.
 */
interface Delivered {
  email?: string;
  webhooks?: string[];
}

function deliveredBefore(): Delivered {
  try {
    const details = Context.current().info.heartbeatDetails as Delivered | undefined;
    return details && typeof details === 'object' ? details : {};
  } catch {
    return {};
  }
}

/**
 * A message as `<time>-<subject>.eml` in an outbox directory, and its HTML part
 * beside it as a page (`….eml.html`): a person opens that in a browser, not a MIME file.
 */
export async function writeOutboxMessage(
  outbox: string,
  message: { subject: string; raw: Buffer; html?: string; at: Date },
): Promise<string> {
  await mkdir(outbox, { recursive: true });
  const file = join(
    outbox,
    `${message.at.toISOString().replace(/[:.]/g, '-')}-${message.subject.replace(/[^\w.-]+/g, '_').slice(0, 80)}.eml`,
  );
  await writeFile(file, message.raw);
  if (message.html) {
    const title = message.subject.replace(/[<>&]/g, (character) => `&#${character.charCodeAt(0)};`);
    await writeFile(
      `${file}.html`,
      `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head><body>\n${message.html}\n</body></html>\n`,
    );
  }
  return file;
}

/** The same Message-ID for every attempt to send a release's announcement. */
export function announcementMessageId(releaseId: string): string {
  return `<relflow.${createHash('sha256').update(releaseId).digest('hex').slice(0, 32)}.announce@relflow.invalid>`;
}

/** Email (nodemailer) and Slack-compatible webhooks. Passwords and webhook URLs come from the worker's environment. */
export function createNotifyActivities(env: NodeJS.ProcessEnv) {
  async function deliver(notifications: Manifest['notifications'], message: Message, messageId?: string): Promise<DeliveryReport> {
    const report: DeliveryReport = { webhooks: [] };
    const before = deliveredBefore();
    const delivered: Delivered = { ...before, webhooks: [...(before.webhooks ?? [])] };
    const email = notifications.email;
    if (before.email) {
      report.email = before.email;
    } else if (email?.outbox) {
      const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      const info = await transport.sendMail(mailOf(email, message, messageId));
      const outbox = localDirectory(env, email.outbox, 'notifications.email.outbox');
      const file = await writeOutboxMessage(outbox, {
        subject: message.subject,
        raw: info.message as Buffer,
        html: message.html,
        at: new Date(),
      });
      report.email = file;
    } else if (email?.smtp) {
      const server = smtpDestination(email.smtp);
      const user = readSecret(env, 'notifications.email.smtp.userEnv', email.smtp.userEnv, server);
      const pass = readSecret(env, 'notifications.email.smtp.passwordEnv', email.smtp.passwordEnv, server);
      const requireTLS = !email.smtp.secure && (email.smtp.requireTLS ?? Boolean(email.smtp.passwordEnv));
      const transport = nodemailer.createTransport({
        host: email.smtp.host,
        port: email.smtp.port,
        secure: email.smtp.secure,
        requireTLS,
        auth: user ? { user, pass } : undefined,
        tls: { rejectUnauthorized: env.RELFLOW_SMTP_INSECURE_TLS !== '1' },
      });
      const info = await transport.sendMail(mailOf(email, message, messageId)).catch((error: unknown) => {
        throw requireTLS && isMissingStartTls(error) ? noStartTls(server) : error;
      });
      report.email = String(info.messageId);
    }
    if (report.email && !before.email) {
      delivered.email = report.email;
      heartbeat(delivered);
    }
    for (const webhook of notifications.webhooks) {
      if (delivered.webhooks?.includes(webhook.name)) {
        report.webhooks.push({ name: webhook.name, status: 'delivered by an earlier attempt' });
        continue;
      }
      const field = `notifications.webhooks[${webhook.name}].urlEnv`;
      // The URL is the secret (Slack's carries its token): errors name the field, never the URL.
      const url = workerSecrets(env).revealUrl(field, webhook.urlEnv);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `${message.subject}\n${message.summary}` }),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        throw new Error(`webhook ${webhook.name}: cannot reach its host (${cause ?? 'network error'})`);
      }
      if (!response.ok) throw new Error(`webhook ${webhook.name} answered HTTP ${response.status}`);
      report.webhooks.push({ name: webhook.name, status: response.status });
      delivered.webhooks?.push(webhook.name);
      heartbeat(delivered);
    }
    return report;
  }

  return {
    /** An alert: a gate that opens, a release that is blocked, a failure. */
    async sendAlert(input: { notifications: Manifest['notifications']; message: Message }): Promise<DeliveryReport> {
      return deliver(input.notifications, input.message);
    },
    /** The release email: every package with URL, size and sha256; repositories and tags; results; skipped stages. */
    async announceRelease(input: { notifications: Manifest['notifications']; state: ReleaseState }): Promise<DeliveryReport> {
      return deliver(input.notifications, announcement(input.state), announcementMessageId(input.state.releaseId));
    },
  };
}

/** The announcement goes out as the release's last stage, every stage before it done: it tells the outcome, not "running". */
export function announcement(state: ReleaseState): Message {
  return emailReport(releaseReport(state.status === 'running' ? { ...state, status: 'succeeded' } : state));
}

/** nodemailer's refusal when requireTLS meets a server that offers no STARTTLS. */
function isMissingStartTls(error: unknown): boolean {
  return error instanceof Error && /STARTTLS/i.test(error.message) && (error as { code?: string }).code === 'ETLS';
}

function noStartTls(server: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `notifications.email.smtp: ${server} offers no STARTTLS, and the password goes only over TLS: ` +
      "use the server's TLS port with secure: true, or set requireTLS: false to send it in clear (a relay on loopback)",
    'SmtpWithoutTls',
  );
}

/** The SMTP server as a URL, the destination its user and password are checked against. */
export function smtpDestination(smtp: { host: string; port: number; secure: boolean }): string {
  const host = smtp.host.includes(':') ? `[${smtp.host}]` : smtp.host;
  return `${smtp.secure ? 'smtps' : 'smtp'}://${host}:${smtp.port}`;
}
