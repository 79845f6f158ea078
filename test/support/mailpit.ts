import { type Mailpit, startMailpit as startMailpitAt } from '../../src/dev/mailpit';
import { ensureTools } from '../../src/worker/tools';
import { tempDir } from './temporal';

export type { Mailpit, MailpitMessage, MailpitSummary } from '../../src/dev/mailpit';

/** Mailpit of the relflow tools, its database in a directory of its own. */
export function startMailpit(): Promise<Mailpit> {
  return startMailpitAt(ensureTools().mailpit, tempDir('mailpit'));
}
