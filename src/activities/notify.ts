import { publicationLines, releaseOutcome } from '../release/outcome';
import { readSecret } from './secrets';
import { escapeHtml } from '../release/escapeHtml';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Manifest } from '../config/manifest';
import type { ReleaseState } from '../release/model';

export interface Message {
  subject: string;
  text: string;
  html?: string;
  /** One line for chat webhooks. */
  summary: string;
}

export interface DeliveryReport {
  email?: string;
  webhooks: { name: string; status: number | string }[];
}

/** Email (nodemailer) and Slack-compatible webhooks. Passwords and webhook URLs come from the worker's environment. */
export function createNotifyActivities(env: NodeJS.ProcessEnv) {
  async function deliver(notifications: Manifest['notifications'], message: Message): Promise<DeliveryReport> {
    const report: DeliveryReport = { webhooks: [] };
    const email = notifications.email;
    if (email?.outbox) {
      const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      const info = await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      await mkdir(email.outbox, { recursive: true });
      const file = join(
        email.outbox,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${message.subject.replace(/[^\w.-]+/g, '_').slice(0, 80)}.eml`,
      );
      await writeFile(file, info.message as Buffer);
      report.email = file;
    } else if (email?.smtp) {
      const user = readSecret(env, 'notifications.email.smtp.userEnv', email.smtp.userEnv);
      const pass = readSecret(env, 'notifications.email.smtp.passwordEnv', email.smtp.passwordEnv);
      const transport = nodemailer.createTransport({
        host: email.smtp.host,
        port: email.smtp.port,
        secure: email.smtp.secure,
        auth: user ? { user, pass } : undefined,
        tls: { rejectUnauthorized: env.RELFLOW_SMTP_INSECURE_TLS !== '1' },
      });
      const info = await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      report.email = String(info.messageId);
    }
    for (const webhook of notifications.webhooks) {
      const url = readSecret(env, `notifications.webhooks[${webhook.name}].urlEnv`, webhook.urlEnv) as string;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `${message.subject}\n${message.summary}` }),
      });
      if (!response.ok) throw new Error(`webhook ${webhook.name} answered HTTP ${response.status}`);
      report.webhooks.push({ name: webhook.name, status: response.status });
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
      return deliver(input.notifications, announcement(input.state));
    },
  };
}

export function announcement(state: ReleaseState): Message {
  const files = [...state.artifacts.flatMap((artifact) => artifact.files ?? []), ...state.stored];
  const skipped = state.stages.filter((stage) => stage.status === 'skipped');
  const published = publicationLines(state);
  const subject = `${state.product} ${state.kind} release ${state.releaseName ?? state.releaseId}: ${files.length} packages`;
  const results = [
    `Outcome: ${releaseOutcome(state)}`,
    state.ci ? `CI: ${state.ci.passed ? 'passed' : 'failed'} (${state.ci.detail})` : 'CI: not run',
    state.systemTests
      ? `System tests: ${state.systemTests.passed ? 'passed' : 'failed'} (${state.systemTests.detail})`
      : 'System tests: not run',
    ...state.gates.map((gate) => `Gate ${gate.name}: ${gate.status}${gate.by ? ` by ${gate.by}` : ''}`),
  ];
  const text = [
    subject,
    '',
    'Packages:',
    ...files.map((file) => `  ${file.name}  ${file.file}  ${file.size} bytes  sha256 ${file.sha256}\n    ${file.urls.join('\n    ')}`),
    '',
    'Repositories:',
    ...state.repositories.map(
      (repository) =>
        `  ${repository.name}  ${repository.tag ?? repository.buildBranch ?? ''}  ${repository.tagSha ?? repository.headSha ?? repository.baseSha ?? ''}`,
    ),
    '',
    ...results,
    ...(published.length ? ['', 'Published:', ...published.map((line) => `  ${line}`)] : []),
    ...(skipped.length ? ['', 'Skipped stages:', ...skipped.map((stage) => `  ${stage.name}: ${stage.detail ?? ''}`)] : []),
  ].join('\n');
  const rows = files
    .map(
      (file) =>
        `<tr><td>${escapeHtml(file.name)}</td><td>${file.urls.map((url) => `<a href="${escapeHtml(url)}">${escapeHtml(file.file)}</a>`).join('<br>')}</td><td>${file.size}</td><td><code>${file.sha256}</code></td></tr>`,
    )
    .join('');
  const html =
    `<h2>${escapeHtml(subject)}</h2><table><tr><th>Package</th><th>File</th><th>Size</th><th>sha256</th></tr>${rows}</table>` +
    `<ul>${state.repositories.map((repository) => `<li>${escapeHtml(repository.name)} ${escapeHtml(repository.tag ?? repository.buildBranch ?? '')}</li>`).join('')}</ul>` +
    `<p>${results.map(escapeHtml).join('<br>')}</p>` +
    (published.length ? `<p>Published:<br>${published.map(escapeHtml).join('<br>')}</p>` : '') +
    (skipped.length ? `<p>Skipped: ${skipped.map((stage) => `${stage.name} (${escapeHtml(stage.detail ?? '')})`).join(', ')}</p>` : '');
  return { subject, text, html, summary: `${files.length} packages; ${results.join('; ')}` };
}
