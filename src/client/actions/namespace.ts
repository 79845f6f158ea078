import { durationMs } from '../../config/duration';
import { connectClient, temporalSettings } from '../connection';
import { setUpNamespace } from '../namespaceSetup';
import { out } from '../options';

export async function setUpNamespaceAction(options: { retention: string }): Promise<void> {
  const settings = temporalSettings();
  const client = await connectClient(settings);
  try {
    const { registered, added } = await setUpNamespace(client.connection, settings.namespace, durationMs(options.retention));
    out(
      `namespace ${settings.namespace}: ${registered ? `registered (retention ${options.retention})` : 'exists (kept as it is)'}; ` +
        `search attributes: ${added.length > 0 ? `added ${added.join(', ')}` : 'all present'}`,
    );
  } finally {
    await client.connection.close();
  }
}
