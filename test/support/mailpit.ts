import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type Mailpit, startMailpit as startMailpitAt } from '../../src/dev/mailpit';
import { ensureTools } from '../../src/worker/tools';
import { tempDir } from './temporal';

export type { Mailpit, MailpitMessage, MailpitSummary } from '../../src/dev/mailpit';

/** Mailpit of the relflow tools, its database in a directory of its own; with `tls`, STARTTLS required under a self-signed certificate. */
export function startMailpit(options: { tls?: boolean } = {}): Promise<Mailpit> {
  const dir = tempDir('mailpit');
  if (!options.tls) return startMailpitAt(ensureTools().mailpit, dir);
  const [certificate, key] = [join(dir, 'smtp.pem'), join(dir, 'smtp.key')];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', certificate],
    {
      stdio: 'ignore',
    },
  );
  return startMailpitAt(ensureTools().mailpit, dir, { certificate, key });
}
